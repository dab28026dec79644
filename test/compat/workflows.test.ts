/**
 * Temporal-style workflows (test/compat/workflows-project) under wfkit/testing: each pattern Temporal
 * code uses, with the import changed only.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Context } from 'wfkit/activity';
import { ApplicationFailure, WorkflowUpdateFailedError } from 'wfkit/client';
import { runReplayHistory, TestWorkflowEnvironment } from 'wfkit/testing';
import * as activities from './workflows-project/src/activities/index.js';
import {
  account,
  addItem,
  approval,
  approve,
  cancelReport,
  cart,
  closeCart,
  declinedPayment,
  describeSelf,
  finishSignal,
  type longChild,
  parentOfAbandoned,
  peek,
  plainTimers,
  recorder,
  returnsNothing,
  stop,
  touch,
  withdraw,
} from './workflows-project/src/workflows/index.js';

const workflowsPath = fileURLToPath(new URL('./workflows-project/src/workflows/index.ts', import.meta.url));
const START = Date.parse('2026-03-01T09:00:00.000Z');

let env: TestWorkflowEnvironment | undefined;
afterEach(async () => {
  await env?.teardown();
  env = undefined;
});

/** Whether each run of longReport was told of a cancellation (its signal aborted) when it ended. */
let told: boolean[] = [];

async function testEnv(): Promise<TestWorkflowEnvironment> {
  told = [];
  const longReport = async (seconds: number) => {
    try {
      return await activities.longReport(seconds);
    } finally {
      told.push(Context.current().cancellationSignal.aborted);
    }
  };
  env = await TestWorkflowEnvironment.createTimeSkipping({
    workflowsPath,
    activities: { ...activities, longReport },
    startTime: START,
  });
  return env;
}

async function eventTypes(e: TestWorkflowEnvironment, workflowId: string): Promise<string[]> {
  return (await e.history(workflowId)).map((event) => event.type);
}

describe('ParentClosePolicy', () => {
  it('ABANDON: the child keeps running after its parent completed', async () => {
    const e = await testEnv();
    const childId = await e.client.execute(parentOfAbandoned, { workflowId: 'p1', args: ['ABANDON'] });
    expect(childId).toBe('p1-child');
    const child = e.client.getHandle<typeof longChild>('p1-child');
    expect((await child.describe()).status).toBe('RUNNING');
    await child.signal(finishSignal);
    await expect(child.result()).resolves.toBe('child done');
  });

  it('REQUEST_CANCEL: the child is asked to cancel when its parent completes', async () => {
    const e = await testEnv();
    await e.client.execute(parentOfAbandoned, { workflowId: 'p2', args: ['REQUEST_CANCEL'] });
    const child = e.client.getHandle('p2-child');
    await expect(child.result()).rejects.toThrow(/cancel/i);
  });
});

describe('ActivityCancellationType', () => {
  it('TRY_CANCEL: the workflow sees the cancellation at once; the activity is told', async () => {
    const e = await testEnv();
    await expect(e.client.execute(cancelReport, { workflowId: 'try', args: ['TRY_CANCEL'] })).resolves.toBe(
      'cancelled',
    );
    const types = await eventTypes(e, 'try');
    const requested = types.indexOf('ActivityTaskCancelRequested');
    expect(requested).toBeGreaterThan(0);
    // The next activity is scheduled right after the request, before the activity acknowledged it.
    expect(types[requested + 1]).toBe('ActivityTaskScheduled');
    expect(told).toEqual([true]);
  });

  it('WAIT_CANCELLATION_COMPLETED: the workflow waits until the activity acknowledged the cancellation', async () => {
    const e = await testEnv();
    await expect(
      e.client.execute(cancelReport, {
        workflowId: 'wait',
        args: ['WAIT_CANCELLATION_COMPLETED'],
      }),
    ).resolves.toBe('cancelled');
    const history = await e.history('wait');
    const types = history.map((event) => event.type);
    const requested = types.indexOf('ActivityTaskCancelRequested');
    const ended = history.findIndex(
      (event) => event.type === 'ActivityTaskFailed' && event.failure.name === 'CancelledFailure',
    );
    const next = types.lastIndexOf('ActivityTaskScheduled');
    expect(requested).toBeGreaterThan(0);
    expect(ended).toBeGreaterThan(requested);
    expect(next).toBeGreaterThan(ended);
    expect(told).toEqual([true]);
    // The history replays.
    await runReplayHistory({ workflowsPath }, history);
  });

  it('ABANDON: no cancel request reaches the activity, which ends on its own', async () => {
    const e = await testEnv();
    await expect(e.client.execute(cancelReport, { workflowId: 'abandon', args: ['ABANDON'] })).resolves.toBe(
      'cancelled',
    );
    const history = await e.history('abandon');
    const types = history.map((event) => event.type);
    expect(types).not.toContain('ActivityTaskCancelRequested');
    expect(types).not.toContain('ActivityTaskCanceled');
    const report = history.find((event) => event.type === 'ActivityTaskScheduled');
    expect(
      history.some(
        (event) => event.type === 'ActivityTaskCompleted' && report !== undefined && event.seq === report.seq,
      ),
    ).toBe(true);
    expect(told).toEqual([false]);
    await runReplayHistory({ workflowsPath }, history);
  });

  it('an unknown cancellationType fails the call with the values it takes', async () => {
    const e = await testEnv();
    await expect(
      e.client.execute(cancelReport, { workflowId: 'bad', args: ['LATER' as 'ABANDON'] }),
    ).rejects.toMatchObject({
      cause: { message: expect.stringContaining('cancellationType must be one of ABANDON, TRY_CANCEL') },
    });
  });
});

describe('allHandlersFinished', () => {
  it('the workflow returns only once every update handler finished its work', async () => {
    const e = await testEnv();
    const handle = await e.client.start(cart, { workflowId: 'cart' });
    const first = handle.executeUpdate(addItem, { args: ['ada'] });
    const second = handle.executeUpdate(addItem, { args: ['grace'] });
    await handle.signal(closeCart);
    await expect(handle.result()).resolves.toEqual(['Hello, ada!', 'Hello, grace!']);
    await expect(Promise.all([first, second])).resolves.toEqual([1, 2]);
  });
});

describe('workflowInfo', () => {
  it("has Temporal's fields, with wf's values where wf has no such concept", async () => {
    const e = await testEnv();
    const handle = await e.client.start(describeSelf, { workflowId: 'info', workflowRunTimeout: '1 hour' });
    await expect(handle.result()).resolves.toEqual({
      workflowId: 'info',
      runId: handle.firstExecutionRunId,
      workflowType: 'describeSelf',
      taskQueue: 'default',
      namespace: 'default',
      firstExecutionRunId: handle.firstExecutionRunId,
      attempt: 1,
      searchAttributes: {},
      startTime: '2026-03-01T09:00:00.000Z',
      runStartTime: '2026-03-01T09:00:00.000Z',
      runTimeoutMs: 3_600_000,
      executionTimeoutMs: 3_600_000,
      historyLength: 1,
      continueAsNewSuggested: false,
      isReplaying: false,
    });
  });
});

describe('setTimeout and clearTimeout', () => {
  it('are durable timers: recorded, fired by workflow time, cancelled by clearTimeout', async () => {
    const e = await testEnv();
    await expect(e.client.execute(plainTimers, { workflowId: 'timers' })).resolves.toEqual([
      'two seconds',
      'one minute',
    ]);
    const history = await e.history('timers');
    expect(history.flatMap((event) => (event.type === 'TimerStarted' ? [event.durationMs] : []))).toEqual([
      5_000, 2_000, 60_000,
    ]);
    expect(history.filter((event) => event.type === 'TimerCanceled')).toHaveLength(1);
    await runReplayHistory({ workflowsPath }, history);
  });
});

describe('undefined stays undefined', () => {
  it('an activity, a query, an update and the workflow that return undefined give undefined, not null', async () => {
    const e = await testEnv();
    const handle = await e.client.start(returnsNothing, { workflowId: 'nothing' });
    await expect(handle.query(peek)).resolves.toBeUndefined();
    await expect(handle.executeUpdate(touch)).resolves.toBeUndefined();
    await expect(handle.result()).resolves.toBeUndefined();
    const completed = (await e.history('nothing')).find(
      (event) => event.type === 'WorkflowExecutionCompleted',
    );
    expect(completed).toBeDefined();
    expect(completed && 'result' in completed && completed.result !== undefined).toBe(false);
  });
});

describe('WorkflowUpdateFailedError', () => {
  it('a rejected update and a failed update reject with WorkflowUpdateFailedError, the failure as cause', async () => {
    const e = await testEnv();
    const handle = await e.client.start(account, { workflowId: 'acct' });
    const rejected = await handle.executeUpdate(withdraw, { args: [-5] }).catch((err: unknown) => err);
    expect(rejected).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((rejected as WorkflowUpdateFailedError).cause).toBeInstanceOf(ApplicationFailure);
    expect((rejected as WorkflowUpdateFailedError).cause.message).toBe('amount must be positive, got -5');

    const failed = await handle.executeUpdate(withdraw, { args: [80] }).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (failed as WorkflowUpdateFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe('InsufficientFunds');

    await expect(handle.executeUpdate(withdraw, { args: [30] })).resolves.toBe(70);
    await handle.signal(stop);
    await expect(handle.result()).resolves.toBe(70);
  });
});

describe('failure causes', () => {
  it("an ActivityFailure's cause is the activity's ApplicationFailure", async () => {
    const e = await testEnv();
    await expect(e.client.execute(declinedPayment, { workflowId: 'pay', args: [5000] })).resolves.toBe(
      'CardDeclined: card declined',
    );
  });
});

describe('cronSchedule', () => {
  it('is refused at start, and nothing is started', async () => {
    const e = await testEnv();
    await expect(
      e.client.start(describeSelf, { workflowId: 'cron', cronSchedule: '0 * * * *' }),
    ).rejects.toThrow(/the cronSchedule option \("0 \* \* \* \*"\) is not supported by wf/);
    await expect(e.history('cron')).rejects.toThrow(/no workflow with ID "cron"/);
  });
});

describe('Trigger, proxyLocalActivities, rootCause, inWorkflowContext', () => {
  it('a Trigger resolved by a signal; a local activity runs as an activity; rootCause reads the innermost message', async () => {
    const e = await testEnv();
    const handle = await e.client.start(approval, { workflowId: 'approval' });
    await handle.signal(approve, 'ada');
    await expect(handle.result()).resolves.toBe('Hello, ada! (in workflow context: true; card declined)');
    const types = (await e.history('approval')).map((event) => event.type);
    expect(types.filter((t) => t === 'ActivityTaskScheduled')).toHaveLength(2);
  });
});

describe('default handlers', () => {
  it('take every signal, query and update without a handler of its own, by name', async () => {
    const e = await testEnv();
    const handle = await e.client.start(recorder, { workflowId: 'recorder' });
    await handle.signal('early', 1);
    await e.sleep('2 seconds');
    await handle.signal('color', 'red');
    await handle.signal('color', 'blue');
    await expect(handle.query('color')).resolves.toEqual(['red', 'blue']);
    await expect(handle.executeUpdate('size', { args: ['L'] })).resolves.toBe(3);
    await handle.signal('stop');
    await expect(handle.result()).resolves.toEqual({
      early: [1],
      color: ['red', 'blue'],
      size: ['L'],
      stop: [],
    });
  });
});
