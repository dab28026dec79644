import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ApplicationFailure } from 'wfkit/activity';
import { runReplayHistory, TestWorkflowEnvironment } from 'wfkit/testing';
import * as activities from '../src/activities/index.js';
import { type CronInput, cronWorkflow } from '../src/workflows/index.js';

const workflowsPath = fileURLToPath(new URL('../src/workflows/index.ts', import.meta.url));
const historiesDir = fileURLToPath(new URL('./histories/', import.meta.url));
const startTime = new Date('2025-01-06T08:30:00.000Z');
const hourly: CronInput = { schedule: '0 * * * *', job: 'report', maxRuns: 3 };

let env: TestWorkflowEnvironment | undefined;
afterEach(async () => {
  await env?.teardown();
  env = undefined;
});

describe('cronWorkflow', () => {
  it('runs the job at each fire time of the schedule', async () => {
    const firedAt: string[] = [];
    env = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath,
      startTime,
      activities: {
        ...activities,
        runJob: async (job: string, scheduledFor: string) => {
          firedAt.push(new Date(env!.currentTimeMs()).toISOString());
          return `${job} ${scheduledFor}`;
        },
      },
    });
    const summary = await env.client.execute(cronWorkflow, { workflowId: 'cron-1', args: [hourly] });
    expect(summary.runs).toBe(3);
    expect(summary.recent.map((r) => r.scheduledFor)).toEqual([
      '2025-01-06T09:00:00.000Z',
      '2025-01-06T10:00:00.000Z',
      '2025-01-06T11:00:00.000Z',
    ]);
    expect(summary.recent.every((r) => r.ok)).toBe(true);
    expect(firedAt).toEqual(summary.recent.map((r) => r.scheduledFor));
  });

  it('retries a failing job with exponential backoff', async () => {
    let calls = 0;
    env = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath,
      startTime,
      activities: {
        ...activities,
        runJob: async () => {
          calls++;
          if (calls <= 2) throw ApplicationFailure.retryable('database busy', 'Busy');
          return 'ok';
        },
      },
    });
    const summary = await env.client.execute(cronWorkflow, {
      workflowId: 'cron-2',
      args: [{ ...hourly, maxRuns: 1 }],
    });
    expect(summary.recent).toEqual([{ scheduledFor: '2025-01-06T09:00:00.000Z', ok: true, result: 'ok' }]);
    const delays = (await env.history('cron-2')).flatMap((e) =>
      e.type === 'ActivityTaskFailed' ? [e.nextRetryDelayMs] : [],
    );
    expect(delays).toEqual([10_000, 20_000]);
  });

  it('records a run that failed for good and keeps to the schedule', async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath,
      startTime,
      activities: {
        ...activities,
        runJob: async (_job: string, scheduledFor: string) => {
          if (scheduledFor.startsWith('2025-01-06T09'))
            throw ApplicationFailure.nonRetryable('disk full', 'DiskFull');
          return 'ok';
        },
      },
    });
    const summary = await env.client.execute(cronWorkflow, { workflowId: 'cron-3', args: [hourly] });
    expect(summary.recent.map((r) => [r.ok, r.error])).toEqual([
      [false, 'disk full'],
      [true, undefined],
      [true, undefined],
    ]);
  });

  it('continues as new every runsPerExecution runs, carrying its position', async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ workflowsPath, startTime, activities });
    const summary = await env.client.execute(cronWorkflow, {
      workflowId: 'cron-4',
      args: [{ ...hourly, maxRuns: 5, runsPerExecution: 2 }],
    });
    expect(summary.runs).toBe(5);
    expect(summary.recent.at(-1)?.scheduledFor).toBe('2025-01-06T13:00:00.000Z');
    const last = await env.history('cron-4');
    expect(last[0]).toMatchObject({ type: 'WorkflowExecutionStarted', args: [{ runsSoFar: 4 }] });
  });

  it('fails fast on an invalid cron expression', async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ workflowsPath, startTime, activities });
    const handle = await env.client.start(cronWorkflow, {
      workflowId: 'cron-5',
      args: [{ ...hourly, schedule: 'every tuesday' }],
    });
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'WorkflowFailedError' });
    const history = await env.history('cron-5');
    expect(history.filter((e) => e.type === 'ActivityTaskFailed')).toHaveLength(1);
  });

  it('replays the recorded history of a schedule that continued as new', async () => {
    await runReplayHistory({ workflowsPath }, `${historiesDir}cron-continued.jsonl`);
  });
});
