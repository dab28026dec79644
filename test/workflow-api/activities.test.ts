import { describe, expect, it } from 'vitest';
import { ApplicationFailure, Context } from 'wfkit/activity';
import type { ErrorShape } from './fixtures/api/src/workflows/index.js';
import { tearDownEnvAfterEach, testEnv } from './helpers.js';

tearDownEnvAfterEach();

describe('calling activities', () => {
  it('proxyActivities schedules the activity by its property name and returns its result', async () => {
    const env = await testEnv();
    await expect(env.client.execute('viaProxy', { workflowId: 'p', args: ['ada'] })).resolves.toBe(
      'hello ada',
    );
    const scheduled = (await env.history('p')).find((e) => e.type === 'ActivityTaskScheduled');
    expect(scheduled).toMatchObject({
      activityType: 'greet',
      args: ['ada'],
      options: { startToCloseTimeoutMs: 60_000 },
    });
  });

  it('executeActivity(fn, ...args) runs an imported activity with the default options', async () => {
    const env = await testEnv();
    await expect(env.client.execute('viaExecuteActivity', { workflowId: 'e', args: ['bob'] })).resolves.toBe(
      'hello bob',
    );
    const scheduled = (await env.history('e')).find((e) => e.type === 'ActivityTaskScheduled');
    expect(scheduled).toMatchObject({
      activityType: 'greet',
      args: ['bob'],
      options: { startToCloseTimeoutMs: 600_000 },
    });
  });

  it('executeActivity(fn, options, ...args) takes the options and passes only the arguments on', async () => {
    const env = await testEnv();
    await expect(
      env.client.execute('viaExecuteActivityWithOptions', { workflowId: 'o', args: ['cy'] }),
    ).resolves.toBe('hello cy');
    const scheduled = (await env.history('o')).find((e) => e.type === 'ActivityTaskScheduled');
    expect(scheduled).toMatchObject({
      args: ['cy'],
      options: { startToCloseTimeoutMs: 5000, retry: { maximumAttempts: 1 } },
    });
  });
});

describe('activity option validation', () => {
  it.each([
    ['missing', /TypeError: activity options need startToCloseTimeout or scheduleToCloseTimeout/],
    ['backoff', /TypeError: retry.backoffCoefficient must be at least 1, got 0.5/],
    [
      'parsecs',
      /TypeError: startToCloseTimeout must be a duration in milliseconds or a string like .30s.*got "3 parsecs"/,
    ],
    ['attempts', /TypeError: retry.maximumAttempts must be a whole number >= 0/],
  ])('%s options throw a TypeError that says what is wrong', async (kind, message) => {
    const env = await testEnv();
    await expect(
      env.client.execute('badOptions', { workflowId: `bad-${kind}`, args: [kind] }),
    ).resolves.toMatch(message);
  });
});

describe('retries', () => {
  it('retries up to maximumAttempts, then fails with the last ApplicationFailure as cause', async () => {
    let calls = 0;
    const env = await testEnv({
      flaky: async () => {
        calls++;
        throw ApplicationFailure.retryable(`attempt ${calls} failed`, 'Flaky');
      },
    });
    const shape = (await env.client.execute('retrying', {
      workflowId: 'r1',
      args: [{ maximumAttempts: 3, initialInterval: '1s' }],
    })) as ErrorShape;
    expect(calls).toBe(3);
    expect(shape).toMatchObject({
      name: 'ActivityFailure',
      isActivityFailure: true,
      cause: {
        name: 'ApplicationFailure',
        type: 'Flaky',
        message: 'attempt 3 failed',
        isApplicationFailure: true,
      },
    });
    const failed = (await env.history('r1')).flatMap((e) =>
      e.type === 'ActivityTaskFailed' ? [[e.attempt, e.nextRetryDelayMs ?? null]] : [],
    );
    expect(failed).toEqual([
      [1, 1000],
      [2, 2000],
      [3, null],
    ]);
  });

  it('does not retry error types listed in nonRetryableErrorTypes', async () => {
    let calls = 0;
    const env = await testEnv({
      flaky: async () => {
        calls++;
        throw ApplicationFailure.retryable('bad input', 'BadInput');
      },
    });
    const shape = (await env.client.execute('retrying', {
      workflowId: 'r2',
      args: [{ nonRetryableErrorTypes: ['BadInput'] }],
    })) as ErrorShape;
    expect(calls).toBe(1);
    expect(shape.cause).toMatchObject({ type: 'BadInput', isApplicationFailure: true });
  });

  it('does not retry a nonRetryable ApplicationFailure', async () => {
    let calls = 0;
    const env = await testEnv({
      flaky: async () => {
        calls++;
        throw ApplicationFailure.nonRetryable('card declined', 'CardDeclined');
      },
    });
    const shape = (await env.client.execute('retrying', { workflowId: 'r3', args: [{}] })) as ErrorShape;
    expect(calls).toBe(1);
    expect(shape.cause).toMatchObject({
      type: 'CardDeclined',
      nonRetryable: true,
      isApplicationFailure: true,
    });
  });

  it('succeeds when a retry does', async () => {
    let calls = 0;
    const env = await testEnv({
      flaky: async () => {
        calls++;
        if (calls < 3) throw new Error('transient');
        return 'third time lucky';
      },
    });
    await expect(env.client.execute('retrying', { workflowId: 'r4', args: [{}] })).resolves.toBe(
      'third time lucky',
    );
  });
});

describe('activity timeouts surface as ActivityFailure caused by TimeoutFailure', () => {
  it('startToCloseTimeout: the attempt is aborted and the workflow sees START_TO_CLOSE', async () => {
    let abortReason: unknown;
    const env = await testEnv({
      slow: async (d: string) => {
        const ctx = Context.current();
        ctx.cancellationSignal.addEventListener('abort', () => {
          abortReason = ctx.cancellationSignal.reason;
        });
        await ctx.sleep(d);
        return 'finished';
      },
    });
    const shape = (await env.client.execute('timingOut', {
      workflowId: 't1',
      args: ['startToClose', '1 minute'],
    })) as ErrorShape;
    expect(shape).toMatchObject({
      isActivityFailure: true,
      cause: { name: 'TimeoutFailure', timeoutType: 'START_TO_CLOSE', isTimeoutFailure: true },
    });
    expect((abortReason as Error).name).toBe('TimeoutFailure');
    const timedOut = (await env.history('t1')).filter((e) => e.type === 'ActivityTaskTimedOut');
    expect(timedOut).toHaveLength(1);
  });

  it('scheduleToCloseTimeout: retries stop when the overall deadline passes', async () => {
    let attempts = 0;
    const env = await testEnv({
      slow: async (d: string) => {
        attempts++;
        await Context.current().sleep(d);
        return 'finished';
      },
    });
    const shape = (await env.client.execute('timingOut', {
      workflowId: 't2',
      args: ['scheduleToClose', '1 minute'],
    })) as ErrorShape;
    expect(shape).toMatchObject({ isActivityFailure: true, cause: { isTimeoutFailure: true } });
    expect(['START_TO_CLOSE', 'SCHEDULE_TO_CLOSE']).toContain(shape.cause?.timeoutType);
    expect(attempts).toBeGreaterThanOrEqual(2);
    const history = await env.history('t2');
    const last = history.filter((e) => e.type === 'ActivityTaskTimedOut').at(-1);
    expect(last && last.type === 'ActivityTaskTimedOut' && last.nextRetryDelayMs).toBeFalsy();
    // the failure is recorded no later than 25 s after scheduling
    const scheduledAt = Date.parse(history.find((e) => e.type === 'ActivityTaskScheduled')!.eventTime);
    expect(Date.parse(last!.eventTime) - scheduledAt).toBeLessThanOrEqual(25_000);
  });

  it('heartbeatTimeout: an activity that stops heartbeating times out with HEARTBEAT', async () => {
    let signal: AbortSignal | undefined;
    const env = await testEnv({
      slow: async () => {
        const ctx = Context.current();
        signal = ctx.cancellationSignal;
        ctx.heartbeat('starting');
        await ctx.sleep('3 seconds');
        ctx.heartbeat('still going');
        await ctx.sleep('1 minute');
        return 'finished';
      },
    });
    const shape = (await env.client.execute('timingOut', {
      workflowId: 't3',
      args: ['heartbeat', 'unused'],
    })) as ErrorShape;
    expect(shape.cause).toMatchObject({ timeoutType: 'HEARTBEAT', isTimeoutFailure: true });
    expect(signal?.aborted).toBe(true);
    const timedOut = (await env.history('t3')).find((e) => e.type === 'ActivityTaskTimedOut');
    expect(Date.parse(timedOut!.eventTime) - Date.parse((await env.history('t3'))[0]!.eventTime)).toBe(8000);
  });
});

describe('Context.current().info', () => {
  it('gives the attempt, and an idempotency key that is stable across retries', async () => {
    const seen: { attempt: number; idempotencyKey: string }[] = [];
    const env = await testEnv({
      whoAmI: async () => {
        const { attempt, idempotencyKey } = Context.current().info;
        seen.push({ attempt, idempotencyKey });
        if (attempt < 3) throw new Error('not yet');
        return { attempt, idempotencyKey };
      },
    });
    const result = await env.client.execute('activityInfo', { workflowId: 'info-1' });
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    expect(new Set(seen.map((s) => s.idempotencyKey)).size).toBe(1);
    expect(result).toEqual(seen[2]);
    expect(seen[0]!.idempotencyKey).toContain('info-1');
  });
});

describe('errors crossing the sandbox keep their class', () => {
  it('an ApplicationFailure thrown by an activity is instanceof ApplicationFailure in the workflow (result and query)', async () => {
    const env = await testEnv({
      flaky: async () => {
        throw ApplicationFailure.nonRetryable('nope', 'Nope');
      },
    });
    const handle = await env.client.start('catchesActivityError', { workflowId: 'x1' });
    const shape = (await handle.result()) as ErrorShape;
    expect(shape).toMatchObject({
      name: 'ActivityFailure',
      isActivityFailure: true,
      isApplicationFailure: false,
      cause: { name: 'ApplicationFailure', type: 'Nope', isApplicationFailure: true },
    });
    // the query runs on a replay of the closed run: same classes there
    await expect(handle.query('lastError')).resolves.toEqual(shape);
  });
});
