import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ApplicationFailure } from 'wfkit/activity';
import { TestWorkflowEnvironment } from 'wfkit/testing';
import * as activities from '../src/activities/index.js';
import { type Order, orderWorkflow } from '../src/workflows/index.js';

const workflowsPath = fileURLToPath(new URL('../src/workflows/index.ts', import.meta.url));
const order: Order = {
  orderId: 'order-1',
  amount: 4999,
  items: [{ sku: 'WIDGET-1', qty: 2 }],
  email: 'ada@example.com',
};

let env: TestWorkflowEnvironment | undefined;
afterEach(async () => {
  await env?.teardown();
  env = undefined;
});

describe('orderWorkflow', () => {
  it('runs every step in order and returns the tracking number', async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ workflowsPath, activities });
    const result = await env.client.execute(orderWorkflow, { workflowId: 'order-1', args: [order] });
    expect(result).toEqual({ orderId: 'order-1', paymentId: 'pay-order-1', trackingNumber: 'TRK-order-1' });
    const scheduled = (await env.history('order-1')).flatMap((e) =>
      e.type === 'ActivityTaskScheduled' ? [e.activityType] : [],
    );
    expect(scheduled).toEqual(['validatePayment', 'reserveInventory', 'shipOrder', 'sendConfirmationEmail']);
  });

  it('retries shipOrder with exponential backoff until it succeeds', async () => {
    let calls = 0;
    env = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath,
      activities: {
        ...activities,
        shipOrder: async (o: Order) => {
          calls++;
          if (calls <= 2) throw ApplicationFailure.retryable('carrier unavailable', 'CarrierUnavailable');
          return { trackingNumber: `TRK-${o.orderId}`, reservationId: 'res' };
        },
      },
    });
    const result = await env.client.execute(orderWorkflow, { workflowId: 'order-2', args: [order] });
    expect(result.trackingNumber).toBe('TRK-order-1');
    const history = await env.history('order-2');
    const attempts = history.flatMap((e) =>
      e.type === 'ActivityTaskFailed' ? [{ attempt: e.attempt, nextRetryDelayMs: e.nextRetryDelayMs }] : [],
    );
    expect(attempts).toEqual([
      { attempt: 1, nextRetryDelayMs: 1000 },
      { attempt: 2, nextRetryDelayMs: 2000 },
    ]);
    const completed = history.find((e) => e.type === 'ActivityTaskCompleted' && e.attempt === 3);
    expect(completed).toBeDefined();
    const failedAt = history
      .filter((e) => e.type === 'ActivityTaskFailed')
      .map((e) => Date.parse(e.eventTime));
    const startedAgain = history
      .filter((e) => e.type === 'ActivityTaskStarted' && e.attempt > 1)
      .map((e) => Date.parse(e.eventTime));
    expect(startedAgain[0]! - failedAt[0]!).toBeGreaterThanOrEqual(1000);
    expect(startedAgain[1]! - failedAt[1]!).toBeGreaterThanOrEqual(2000);
  });

  it('compensates and fails with the cause when shipOrder fails for good', async () => {
    const released: string[] = [];
    env = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath,
      activities: {
        ...activities,
        shipOrder: async () => {
          throw ApplicationFailure.nonRetryable('address does not exist', 'InvalidAddress');
        },
        cancelInventoryReservation: async (r: { reservationId: string }) => {
          released.push(r.reservationId);
        },
      },
    });
    const handle = await env.client.start(orderWorkflow, { workflowId: 'order-3', args: [order] });
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'WorkflowFailedError' });
    const cause = (
      error as { cause: Error & { type?: string; cause?: Error & { cause?: Error & { type?: string } } } }
    ).cause;
    expect(cause.message).toContain('order order-1 failed');
    expect(cause.type).toBe('OrderFailed');
    expect(cause.cause?.name).toBe('ActivityFailure');
    expect(cause.cause?.cause?.type).toBe('InvalidAddress');
    expect(released).toEqual(['res-order-1']);
    const types = (await env.history('order-3')).map((e) => e.type);
    expect(types.filter((t) => t === 'ActivityTaskFailed')).toHaveLength(1);
    expect(types.at(-1)).toBe('WorkflowExecutionFailed');
  });

  it('reports its current step through a query', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    env = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath,
      activities: {
        ...activities,
        shipOrder: async (o: Order) => {
          await gate;
          return { trackingNumber: `TRK-${o.orderId}`, reservationId: 'res' };
        },
      },
    });
    const handle = await env.client.start(orderWorkflow, { workflowId: 'order-4', args: [order] });
    await expect.poll(() => handle.query<string>('step')).toBe('shipping');
    release();
    await handle.result();
    expect(await handle.query<string>('step')).toBe('done');
  });
});
