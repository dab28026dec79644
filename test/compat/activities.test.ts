/**
 * Temporal's activity API under wfkit/testing: activities of test/compat/activities-project, written
 * as Temporal's documentation writes them, run in a TestWorkflowEnvironment and in a
 * MockActivityEnvironment.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ActivityLogRecord,
  CancelledFailure,
  CompleteAsyncError,
  Context,
  type LogLevel,
} from 'wfkit/activity';
import { ActivityNotFoundError, ApplicationFailure } from 'wfkit/client';
import { MockActivityEnvironment, TestWorkflowEnvironment } from 'wfkit/testing';
import { eventLevel } from '../../src/devserver/dev-reporter.js';
import * as activities from './activities-project/src/activities/index.js';
import {
  approval,
  greeting,
  payment,
  progress,
  selfDescribed,
} from './activities-project/src/workflows/index.js';

const workflowsPath = fileURLToPath(new URL('./activities-project/src/workflows/index.ts', import.meta.url));
const START = Date.parse('2026-03-01T09:00:00.000Z');

let env: TestWorkflowEnvironment | undefined;
afterEach(async () => {
  await env?.teardown();
  env = undefined;
});

async function testEnv(
  overrides: Partial<typeof activities> = {},
  logs: ActivityLogRecord[] = [],
): Promise<TestWorkflowEnvironment> {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    workflowsPath,
    activities: { ...activities, ...overrides },
    startTime: START,
    activityLog: (record) => logs.push(record),
  });
  return env;
}

describe('wfkit/activity under wfkit/testing', () => {
  it('log: each line carries the workflow and run IDs, the activity ID and type and the attempt', async () => {
    const logs: ActivityLogRecord[] = [];
    const e = await testEnv({}, logs);
    const handle = await e.client.start(greeting, { workflowId: 'greet-1', args: ['Ada'] });
    expect(await handle.result()).toBe('Hello, Ada!');
    expect(logs).toEqual([
      {
        level: 'info',
        message: 'Greeting',
        attributes: { name: 'Ada' },
        activity: {
          workflowId: 'greet-1',
          runId: handle.runId,
          workflowType: 'greeting',
          activityId: expect.any(String),
          activityType: 'greet',
          attempt: 1,
        },
      },
    ]);
  });

  it("activityInfo(): Temporal's fields, with the task token naming this attempt", async () => {
    const e = await testEnv();
    const handle = await e.client.start(selfDescribed, { workflowId: 'info-1' });
    const info = await handle.result();
    expect(info).toMatchObject({
      workflowExecution: { workflowId: 'info-1', runId: handle.runId },
      workflowType: 'selfDescribed',
      activityType: 'describeSelf',
      attempt: 1,
      isLocal: false,
      taskQueue: 'default',
      scheduledTimestampMs: START,
      currentAttemptScheduledTimestampMs: START,
      startToCloseTimeoutMs: 60_000,
      heartbeatDetails: null,
    });
    expect(info.heartbeatTimeoutMs).toBeUndefined();
    const token = JSON.parse(Buffer.from(info.base64TaskToken as string, 'base64').toString('utf8'));
    expect(token).toEqual({
      wf: 1,
      workflowId: 'info-1',
      runId: handle.runId,
      activityId: info.activityId,
      seq: expect.any(Number),
      attempt: 1,
    });
    expect(info.taskTokenBytes).toBe(Buffer.from(info.base64TaskToken as string, 'base64').length);
  });

  it('Context.current(): heartbeats carry progress to the next attempt (heartbeatDetails)', async () => {
    const logs: ActivityLogRecord[] = [];
    const e = await testEnv({}, logs);
    // The first attempt fails after its 4th heartbeat; the retry starts from there.
    expect(await e.client.execute(progress, { workflowId: 'progress-1', args: [1000, 4] })).toBe(4);
    expect(logs.map((l) => [l.activity.attempt, l.attributes?.startingPoint])).toEqual([
      [1, 1],
      [2, 4],
    ]);
  });

  it('info.heartbeatDetails is the previous attempt’s, even when read after this attempt heartbeats', async () => {
    const seen: [number, unknown][] = [];
    const e = await testEnv({
      fakeProgress: async () => {
        const context = Context.current();
        context.heartbeat(`from attempt ${seen.length + 1}`); // before the info is first read
        const { attempt, heartbeatDetails } = context.info;
        seen.push([attempt, heartbeatDetails]);
        if (attempt === 1) throw ApplicationFailure.retryable('once more', 'Flaky');
        return attempt;
      },
    });
    expect(await e.client.execute(progress, { workflowId: 'progress-2', args: [1000, 4] })).toBe(2);
    expect(seen).toEqual([
      [1, undefined],
      [2, 'from attempt 1'],
    ]);
  });

  it('CompleteAsyncError: the attempt waits until client.activity.complete(taskToken, result)', async () => {
    const tokens: Uint8Array[] = [];
    const e = await testEnv({
      requestApproval: async () => {
        tokens.push(
          activities.requestApproval === undefined ? new Uint8Array() : Context.current().info.taskToken,
        );
        throw new CompleteAsyncError();
      },
    });
    const handle = await e.client.start(approval, { workflowId: 'approve-1', args: ['ada'] });
    await waitFor(() => tokens.length === 1);
    const [token] = tokens as [Uint8Array];
    await e.client.activity.heartbeat(token, { seen: true });
    expect((await handle.describe()).pendingActivities).toHaveLength(1);
    await e.client.activity.complete(token, 'approved by ada');
    expect(await handle.result()).toBe('approved by ada');
    // The attempt is over: its token no longer completes anything.
    await expect(e.client.activity.complete(token, 'again')).rejects.toThrow(ActivityNotFoundError);
    const events = await handle.history();
    // Started is recorded when the attempt begins to wait (so a restart waits on), not again with the result.
    expect(events.filter((ev) => ev.type.startsWith('Activity')).map((ev) => ev.type)).toEqual([
      'ActivityTaskScheduled',
      'ActivityTaskStarted',
      'ActivityTaskCompleted',
    ]);
    expect(events.find((ev) => ev.type === 'ActivityTaskStarted')).toMatchObject({ asyncCompletion: true });
  });

  it('client.activity.fail(taskToken, error): retried per the policy, then the workflow sees the failure', async () => {
    const tokens: string[] = [];
    const e = await testEnv({
      requestApproval: async () => {
        tokens.push(Context.current().info.base64TaskToken);
        throw new CompleteAsyncError();
      },
    });
    const handle = await e.client.start(approval, { workflowId: 'approve-2', args: ['bob'] });
    await waitFor(() => tokens.length === 1);
    await e.client.activity.fail(tokens[0]!, new Error('bob is away'));
    // maximumAttempts 2: after the 1 s backoff the second attempt gets a token of its own.
    await e.sleep('1 second');
    await waitFor(() => tokens.length === 2);
    expect(tokens[1]).not.toBe(tokens[0]);
    await expect(e.client.activity.complete(tokens[0]!, 'late')).rejects.toThrow(/attempt 2 runs now/);
    await e.client.activity.fail(tokens[1]!, ApplicationFailure.nonRetryable('bob said no', 'Refused'));
    expect(await handle.result()).toBe('refused: bob said no');
  });

  it('cancelling the workflow ends an attempt waiting for async completion; its token then finds nothing', async () => {
    const tokens: Uint8Array[] = [];
    const e = await testEnv({
      requestApproval: async () => {
        tokens.push(Context.current().info.taskToken);
        throw new CompleteAsyncError();
      },
    });
    const handle = await e.client.start(approval, { workflowId: 'approve-4', args: ['dan'] });
    await waitFor(() => tokens.length === 1);
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    const types = (await handle.history()).map((ev) => ev.type);
    expect(types).toContain('ActivityTaskCancelRequested');
    const late = e.client.activity.complete(tokens[0]!, 'too late');
    await expect(late).rejects.toThrow(ActivityNotFoundError);
    await expect(late).rejects.toThrow(/the run is canceled/);
  });

  it('an attempt waiting for async completion times out (start-to-close) and is retried', async () => {
    let calls = 0;
    const e = await testEnv({
      requestApproval: async () => {
        calls++;
        throw new CompleteAsyncError();
      },
    });
    const handle = await e.client.start(approval, { workflowId: 'approve-3', args: ['carol'] });
    // Virtual time skips past both attempts' one-hour start-to-close timeouts.
    await expect(handle.result()).rejects.toThrow();
    expect(calls).toBe(2);
    const timedOut = (await handle.history()).filter((ev) => ev.type === 'ActivityTaskTimedOut');
    expect(timedOut).toHaveLength(2);
  });

  it('a malformed task token is refused with a message that says what to pass', async () => {
    const e = await testEnv();
    await expect(e.client.activity.complete('not-a-token', 1)).rejects.toThrow(/not a wf task token/);
  });

  it('ApplicationFailureCategory.BENIGN: recorded in the failure info and logged at debug level', async () => {
    const e = await testEnv();
    const handle = await e.client.start(payment, { workflowId: 'pay-1', args: [50_000] });
    expect(await handle.result()).toBe('CardDeclined: card declined: over the limit (BENIGN)');
    const failed = (await handle.history()).find((ev) => ev.type === 'ActivityTaskFailed');
    expect(failed).toMatchObject({ failure: { type: 'CardDeclined', category: 'BENIGN' } });
    expect(eventLevel(failed!)).toBe('debug');
  });
});

describe('MockActivityEnvironment', () => {
  it('runs an activity with a mocked context: result, info overrides, logs', async () => {
    const env = new MockActivityEnvironment({ attempt: 3, activityType: 'greet' });
    expect(await env.run(activities.greet, 'Grace')).toBe('Hello, Grace!');
    expect(env.logs).toEqual([
      {
        level: 'info',
        message: 'Greeting',
        attributes: { name: 'Grace' },
        activity: expect.objectContaining({ attempt: 3, activityType: 'greet', workflowId: 'test' }),
      },
    ]);
    const info = await env.run(activities.describeSelf);
    expect(info).toMatchObject({ attempt: 3, isLocal: false, taskQueue: 'test' });
  });

  it('records heartbeats (and emits them) and cancel() aborts the activity with a CancelledFailure', async () => {
    const env = new MockActivityEnvironment({ heartbeatDetails: 7 });
    env.on('heartbeat', (progress: number) => {
      if (progress === 8) env.cancel();
    });
    const run = env.run(activities.fakeProgress, 1);
    await expect(run).rejects.toThrow(CancelledFailure);
    await expect(run).rejects.toThrow('CANCELLED');
    expect(env.heartbeats).toEqual([7, 8]);
    expect(env.context.cancellationSignal.aborted).toBe(true);
    expect(env.logs.map((l) => l.message)).toEqual([
      'Starting activity at progress',
      'Fake progress activity cancelled',
    ]);
  });

  it("hands log lines to a Temporal Logger with the activity's context in meta", async () => {
    const lines: [LogLevel, string, Record<string, unknown> | undefined][] = [];
    const logger = {
      log: (level: LogLevel, message: string, meta?: Record<string, unknown>) =>
        lines.push([level, message, meta]),
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    };
    const env = new MockActivityEnvironment(
      { workflowExecution: { workflowId: 'wf-9', runId: 'run-9' } },
      { logger },
    );
    await env.run(activities.greet, 'Lin');
    expect(lines).toEqual([
      [
        'INFO',
        'Greeting',
        expect.objectContaining({
          name: 'Lin',
          workflowId: 'wf-9',
          runId: 'run-9',
          sdkComponent: 'activity',
        }),
      ],
    ]);
    expect(env.context.info.workflowId).toBe('wf-9');
  });

  it('Context.current().client, which wf does not offer, says what to use instead', async () => {
    const env = new MockActivityEnvironment();
    await expect(env.run(async () => Context.current().client)).rejects.toThrow(
      /Create one with connect\(\)/,
    );
  });

  it('Context.current() outside an activity says how to test one', () => {
    expect(() => Context.current()).toThrow(/MockActivityEnvironment/);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error('condition not met');
}
