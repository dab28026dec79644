import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ApplicationFailure } from 'wfkit/activity';
import { runReplayHistory, TestWorkflowEnvironment } from 'wfkit/testing';
import * as activities from '../src/activities/index.js';
import { bookTrip, status, type TripRequest } from '../src/workflows/index.js';

const workflowsPath = fileURLToPath(new URL('../src/workflows/index.ts', import.meta.url));
const historiesDir = fileURLToPath(new URL('./histories/', import.meta.url));
const trip: TripRequest = { tripId: 'trip-1', traveller: 'Ada Lovelace', destination: 'Lisbon', nights: 3 };

let env: TestWorkflowEnvironment | undefined;
afterEach(async () => {
  await env?.teardown();
  env = undefined;
});

async function scheduledActivities(workflowId: string): Promise<string[]> {
  const history = (await env?.history(workflowId)) ?? [];
  return history.flatMap((e) => (e.type === 'ActivityTaskScheduled' ? [e.activityType] : []));
}

describe('bookTrip', () => {
  it('books flight, hotel and car in order and returns the itinerary', async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ workflowsPath, activities });
    const itinerary = await env.client.execute(bookTrip, { workflowId: 'trip-1', args: [trip] });
    expect(itinerary).toEqual({
      tripId: 'trip-1',
      flight: 'FL-trip-1',
      hotel: 'HT-trip-1',
      car: 'CR-trip-1',
    });
    expect(await scheduledActivities('trip-1')).toEqual(['bookFlight', 'bookHotel', 'bookCar']);
  });

  it('retries a flaky hotel with backoff and still books the trip', async () => {
    let calls = 0;
    env = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath,
      activities: {
        ...activities,
        bookHotel: async (t: TripRequest) => {
          calls++;
          if (calls === 1) throw ApplicationFailure.retryable('hotel API timed out', 'HotelUnavailable');
          return { kind: 'hotel', confirmation: `HT-${t.tripId}` };
        },
      },
    });
    const itinerary = await env.client.execute(bookTrip, { workflowId: 'trip-2', args: [trip] });
    expect(itinerary.hotel).toBe('HT-trip-1');
    expect(calls).toBe(2);
  });

  it('cancels what was booked, in reverse order, when the car cannot be rented', async () => {
    const cancelled: string[] = [];
    env = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath,
      activities: {
        ...activities,
        cancelFlight: async () => {
          cancelled.push('flight');
        },
        cancelHotel: async () => {
          cancelled.push('hotel');
        },
        cancelCar: async () => {
          cancelled.push('car');
        },
      },
    });
    const handle = await env.client.start(bookTrip, {
      workflowId: 'trip-3',
      args: [{ ...trip, destination: 'Atlantis' }],
    });
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'WorkflowFailedError' });
    const cause = (error as { cause: Error & { type?: string } }).cause;
    expect(cause.type).toBe('TripBookingFailed');
    expect(cause.message).toContain('no cars available in Atlantis');
    expect(cancelled).toEqual(['car', 'hotel', 'flight']);
    expect(await handle.query(status)).toBe('failed');
  });

  it('reports where it is through the status query', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    env = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath,
      activities: {
        ...activities,
        bookHotel: async (t: TripRequest) => {
          await gate;
          return { kind: 'hotel', confirmation: `HT-${t.tripId}` };
        },
      },
    });
    const handle = await env.client.start(bookTrip, { workflowId: 'trip-4', args: [trip] });
    await expect.poll(() => handle.query(status)).toBe('booking hotel');
    release();
    await handle.result();
    expect(await handle.query(status)).toBe('booked');
  });

  it('replays the recorded history of a booked trip', async () => {
    await runReplayHistory({ workflowsPath }, `${historiesDir}trip-booked.jsonl`);
  });

  it('replays the recorded history of a compensated trip', async () => {
    await runReplayHistory({ workflowsPath }, `${historiesDir}trip-compensated.jsonl`);
  });
});
