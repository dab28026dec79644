import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MemoryHistoryStore } from '../../history/memory-store.js';
import { VirtualClock } from '../clock.js';
import { loadWorkflowCode } from '../workflow-code.js';
import { type ActivityFunction, WorkflowEngine } from './index.js';

const fixture = (path: string) =>
  fileURLToPath(new URL(`../../../test/fixtures/engine/${path}`, import.meta.url));

async function makeEngine(options: {
  store?: MemoryHistoryStore;
  clock?: VirtualClock;
  activities?: Record<string, ActivityFunction>;
  maxCachedRuns?: number;
  maxConcurrentActivities?: number;
}) {
  const code = await loadWorkflowCode({
    workflowsPath: fixture('src/workflows/index.ts'),
    activitiesPath: fixture('src/activities/index.ts'),
  });
  const store = options.store ?? new MemoryHistoryStore();
  const clock = options.clock ?? new VirtualClock(Date.parse('2026-01-01T00:00:00Z'));
  const engine = new WorkflowEngine({
    store,
    code,
    clock,
    activities: options.activities ?? { step: async (name: string) => `did ${name}` },
    ...(options.maxCachedRuns ? { maxCachedRuns: options.maxCachedRuns } : {}),
    ...(options.maxConcurrentActivities ? { maxConcurrentActivities: options.maxConcurrentActivities } : {}),
  });
  return { engine, store, clock };
}

describe('WorkflowEngine', () => {
  it('evicts idle runs past the cache size and rebuilds them by replay when they wake', async () => {
    const { engine, clock } = await makeEngine({ maxCachedRuns: 2 });
    for (let i = 0; i < 5; i++) await engine.startWorkflow({ workflowType: 'waiter', workflowId: `w${i}` });
    await engine.waitForIdle();
    const loaded = () => engine.cacheStats().loaded;
    expect(loaded()).toBeLessThanOrEqual(3);
    for (let i = 0; i < 5; i++) await engine.signal({ workflowId: `w${i}` }, 'go', [`s${i}`]);
    await engine.waitForIdle();
    expect(await engine.query({ workflowId: 'w0' }, 'state', [])).toEqual(['did s0']);
    clock.advanceToNextTimer();
    await engine.waitForIdle();
    for (let i = 0; i < 5; i++) {
      expect(await engine.result({ workflowId: `w${i}` })).toEqual({
        status: 'COMPLETED',
        result: [`did s${i}`, 'did after sleep'],
      });
    }
  });

  it('resumes open runs from the store after a restart, re-running only the activity that was in flight', async () => {
    const store = new MemoryHistoryStore();
    const clock = new VirtualClock(Date.parse('2026-01-01T00:00:00Z'));
    const calls: { name: string; key: string; attempt: number }[] = [];
    let hang = true;
    const { Context } = await import('../../activity/index.js');
    const step = async (name: string) => {
      const { idempotencyKey, attempt } = Context.current().info;
      calls.push({ name, key: idempotencyKey, attempt });
      if (name === '2' && hang) await new Promise(() => undefined);
      return `did ${name}`;
    };
    const first = await makeEngine({ store, clock, activities: { step } });
    await first.engine.startWorkflow({ workflowType: 'steps', workflowId: 'crashy', args: [4] });
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.map((c) => c.name)).toEqual(['0', '1', '2']);
    // The "crash": this engine is abandoned with activity 2 in flight; a new one opens the same store.
    hang = false;
    const second = await makeEngine({ store, clock, activities: { step } });
    expect(await second.engine.recover()).toEqual({ resumed: 1, paused: 0 });
    expect(await second.engine.result({ workflowId: 'crashy' })).toEqual({ status: 'COMPLETED', result: 4 });
    expect(calls.map((c) => c.name)).toEqual(['0', '1', '2', '2', '3']);
    expect(calls[3]!.key).toBe(calls[2]!.key);
    const history = await second.engine.history({ workflowId: 'crashy' });
    expect(history.filter((e) => e.type === 'ActivityTaskCompleted')).toHaveLength(4);
  });

  it('fires a timer recorded before a restart at its original deadline, never early', async () => {
    const store = new MemoryHistoryStore();
    const clock = new VirtualClock(Date.parse('2026-01-01T00:00:00Z'));
    const first = await makeEngine({ store, clock });
    await first.engine.startWorkflow({ workflowType: 'waiter', workflowId: 't' });
    await first.engine.signal({ workflowId: 't' }, 'go', ['x']);
    await first.engine.waitForIdle();
    const second = await makeEngine({ store, clock: new VirtualClock(clock.now() + 10 * 60_000) });
    await second.engine.recover();
    const secondClock = second.clock;
    expect(secondClock.nextTimerAt()).toBe(Date.parse('2026-01-01T01:00:00Z'));
    secondClock.advanceToNextTimer();
    expect(await second.engine.result({ workflowId: 't' })).toMatchObject({ status: 'COMPLETED' });
    const history = await second.engine.history({ workflowId: 't' });
    const fired = history.find((e) => e.type === 'TimerFired')!;
    expect(Date.parse(fired.eventTime)).toBeGreaterThanOrEqual(Date.parse('2026-01-01T01:00:00Z'));
  });

  it('runs no more activities at once than its concurrency limit', async () => {
    let running = 0;
    let peak = 0;
    const step = async (name: string) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return name;
    };
    const { engine } = await makeEngine({ activities: { step }, maxConcurrentActivities: 3 });
    for (let i = 0; i < 10; i++)
      await engine.startWorkflow({ workflowType: 'steps', workflowId: `c${i}`, args: [2] });
    for (let i = 0; i < 10; i++) await engine.result({ workflowId: `c${i}` });
    expect(peak).toBe(3);
  });

  it('refuses a second start of a running workflow ID unless asked to use the existing run', async () => {
    const { engine } = await makeEngine({});
    const first = await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'dup' });
    await expect(engine.startWorkflow({ workflowType: 'waiter', workflowId: 'dup' })).rejects.toMatchObject({
      code: 'ALREADY_STARTED',
    });
    const again = await engine.startWorkflow({
      workflowType: 'waiter',
      workflowId: 'dup',
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    expect(again).toEqual({ workflowId: 'dup', runId: first.runId, started: false });
    await engine.terminate({ workflowId: 'dup' }, 'done with it');
    await expect(
      engine.startWorkflow({
        workflowType: 'waiter',
        workflowId: 'dup',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      }),
    ).rejects.toMatchObject({ code: 'ALREADY_STARTED' });
    const third = await engine.startWorkflow({
      workflowType: 'waiter',
      workflowId: 'dup',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    });
    expect(third.started).toBe(true);
  });

  it('names the known workflow types when asked for an unknown one', async () => {
    const { engine } = await makeEngine({});
    await expect(engine.startWorkflow({ workflowType: 'nope', workflowId: 'x' })).rejects.toThrow(
      /unknown workflow type "nope": the workflows module exports .*"waiter"/,
    );
  });

  it('pauses a run the new code cannot replay: signals are recorded, updates refused with the reason, terminate works', async () => {
    const { engine } = await makeEngine({});
    await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'p' });
    await engine.signal({ workflowId: 'p' }, 'go', ['first']);
    await engine.waitForIdle();
    const changed = await loadWorkflowCode({
      workflowsPath: fileURLToPath(
        new URL('../../../test/fixtures/engine-changed/src/workflows/index.ts', import.meta.url),
      ),
    });
    expect(await engine.setCode(changed)).toEqual({ paused: ['p'] });
    expect((await engine.describe({ workflowId: 'p' })).paused?.reason).toMatch(/ActivityTaskScheduled step/);
    // Signals still land (delivered when the run resumes); updates need the code, so they are refused.
    await engine.signal({ workflowId: 'p' }, 'go', ['again']);
    await expect(engine.update({ workflowId: 'p' }, 'nope', [])).rejects.toThrow(
      /is paused until its code replays/,
    );
    expect((await engine.history({ workflowId: 'p' })).at(-1)).toMatchObject({
      type: 'WorkflowSignaled',
      args: ['again'],
    });
    await engine.terminate({ workflowId: 'p' }, 'broken code');
    expect(await engine.result({ workflowId: 'p' })).toEqual({ status: 'TERMINATED', reason: 'broken code' });
  });

  it('cancelling a parent cancels the child it waits on, and the parent ends cancelled', async () => {
    const { engine } = await makeEngine({});
    await engine.startWorkflow({ workflowType: 'parentOfSleepy', workflowId: 'parent' });
    await engine.waitForIdle();
    expect((await engine.describe({ workflowId: 'sleepy-child' })).status).toBe('RUNNING');
    await engine.cancel({ workflowId: 'parent' });
    expect(await engine.result({ workflowId: 'parent' })).toEqual({ status: 'CANCELED' });
    expect(await engine.result({ workflowId: 'sleepy-child' })).toEqual({ status: 'CANCELED' });
    const types = (await engine.history({ workflowId: 'parent' })).map((e) => e.type);
    expect(types).toContain('ChildWorkflowExecutionCancelRequested');
  });

  it('delivers signals from one workflow to another and to a child, and reports an undeliverable one', async () => {
    const { engine, clock } = await makeEngine({});
    await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'target' });
    await engine.startWorkflow({ workflowType: 'signalsOthers', workflowId: 'sender', args: ['target'] });
    expect(await engine.result({ workflowId: 'sender' })).toEqual({
      status: 'COMPLETED',
      result: expect.stringMatching(/^ApplicationFailure: no workflow with ID "nobody-here"/),
    });
    await engine.startWorkflow({ workflowType: 'parentSignalsChild', workflowId: 'parent-2' });
    await engine.waitForIdle();
    clock.advanceToNextTimer();
    clock.advanceToNextTimer();
    await engine.waitForIdle();
    clock.advanceToNextTimer();
    expect(await engine.result({ workflowId: 'target' })).toEqual({
      status: 'COMPLETED',
      result: ['did from a workflow', 'did after sleep'],
    });
    expect(await engine.result({ workflowId: 'parent-2' })).toEqual({
      status: 'COMPLETED',
      result: ['did from the parent', 'did after sleep'],
    });
    const types = (await engine.history({ workflowId: 'sender' })).map((e) => e.type);
    expect(types).toContain('ExternalWorkflowExecutionSignaled');
    expect(types).toContain('SignalExternalWorkflowExecutionFailed');
  });

  it('signal-with-start starts a workflow that is not running and signals one that is', async () => {
    const { engine } = await makeEngine({});
    const first = await engine.startWorkflow({
      workflowType: 'waiter',
      workflowId: 'sws',
      signal: { name: 'go', args: ['first'] },
    });
    expect(first.started).toBe(true);
    await engine.waitForIdle();
    expect(await engine.query({ workflowId: 'sws' }, 'state', [])).toEqual(['did first']);
    const again = await engine.startWorkflow({
      workflowType: 'waiter',
      workflowId: 'sws',
      signal: { name: 'go', args: ['second'] },
    });
    expect(again).toEqual({ workflowId: 'sws', runId: first.runId, started: false });
    const signals = (await engine.history({ workflowId: 'sws' })).filter(
      (e) => e.type === 'WorkflowSignaled',
    );
    expect(signals).toHaveLength(2);
  });

  it('signal-with-start delivers the signal in the first activation, and the history replays', async () => {
    const { engine } = await makeEngine({});
    await engine.startWorkflow({
      workflowType: 'collector',
      workflowId: 'c',
      signal: { name: 'go', args: ['x'] },
    });
    expect(await engine.result({ workflowId: 'c' })).toEqual({ status: 'COMPLETED', result: ['x'] });
    const history = await engine.history({ workflowId: 'c' });
    expect(history.map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'WorkflowSignaled',
      'WorkflowExecutionCompleted',
    ]);
    const { RunExecutor } = await import('../executor.js');
    const code = await loadWorkflowCode({ workflowsPath: fixture('src/workflows/index.ts') });
    expect(RunExecutor.replay(history, { sandbox: code.sandbox }).events).toEqual([]);
  });

  it('records a signal sent twice with the same request ID once', async () => {
    const { engine } = await makeEngine({});
    await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'dedup' });
    await engine.signal({ workflowId: 'dedup' }, 'go', ['once'], 'req-1');
    await engine.signal({ workflowId: 'dedup' }, 'go', ['once'], 'req-1');
    await engine.signal({ workflowId: 'dedup' }, 'go', ['other'], 'req-2');
    const signals = (await engine.history({ workflowId: 'dedup' })).filter(
      (e) => e.type === 'WorkflowSignaled',
    );
    expect(signals.map((e) => (e.type === 'WorkflowSignaled' ? e.requestId : undefined))).toEqual([
      'req-1',
      'req-2',
    ]);
  });

  it('describes pending work with the line of workflow code that awaits it', async () => {
    const { engine } = await makeEngine({});
    await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'where' });
    await engine.signal({ workflowId: 'where' }, 'go', ['x']);
    await engine.waitForIdle();
    const described = await engine.describe({ workflowId: 'where' });
    expect(described.pendingTimers).toEqual([
      expect.objectContaining({
        seq: 1,
        callSite: expect.objectContaining({ file: expect.stringMatching(/index\.ts$/) }),
      }),
    ]);
  });

  it("names a scope timeout's line when the scope was made in an activation the run replayed", async () => {
    const store = new MemoryHistoryStore();
    const hang = { step: () => new Promise<string>(() => undefined) };
    const first = await makeEngine({ store, activities: hang });
    await first.engine.startWorkflow({ workflowType: 'scopeAfterWait', workflowId: 'scoped' });
    await first.engine.waitForIdle();
    // A restart: the run is rebuilt by replaying the activation that made the scope, then woken.
    const second = await makeEngine({ store, activities: hang });
    await second.engine.recover();
    await second.engine.signal({ workflowId: 'scoped' }, 'go', ['x']);
    const timerStarted = async () =>
      (await second.engine.history({ workflowId: 'scoped' })).find((e) => e.type === 'TimerStarted');
    await expect.poll(timerStarted).toBeDefined();
    expect(await timerStarted()).toMatchObject({
      callSite: { file: expect.stringMatching(/index\.ts$/) },
    });
  });

  it('cancels another workflow through its external handle, and reports a target that does not exist', async () => {
    const { engine } = await makeEngine({});
    await engine.startWorkflow({ workflowType: 'sleepy', workflowId: 'victim' });
    await engine.startWorkflow({ workflowType: 'cancelsOther', workflowId: 'canceller', args: ['victim'] });
    expect(await engine.result({ workflowId: 'canceller' })).toEqual({
      status: 'COMPLETED',
      result: expect.stringMatching(/no workflow with ID "nobody-here"/),
    });
    expect(await engine.result({ workflowId: 'victim' })).toEqual({ status: 'CANCELED' });
    const types = (await engine.history({ workflowId: 'canceller' })).map((e) => e.type);
    expect(types).toContain('ExternalWorkflowExecutionCancelRequested');
    expect(types).toContain('RequestCancelExternalWorkflowExecutionFailed');
  });

  it('records a signal sent twice with the same request ID once while the run is paused', async () => {
    const { engine } = await makeEngine({});
    await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'paused-dedup' });
    await engine.signal({ workflowId: 'paused-dedup' }, 'go', ['first'], 'req-0');
    await engine.waitForIdle();
    const changed = await loadWorkflowCode({
      workflowsPath: fileURLToPath(
        new URL('../../../test/fixtures/engine-changed/src/workflows/index.ts', import.meta.url),
      ),
    });
    expect(await engine.setCode(changed)).toEqual({ paused: ['paused-dedup'] });
    await engine.signal({ workflowId: 'paused-dedup' }, 'go', ['again'], 'req-1');
    await engine.signal({ workflowId: 'paused-dedup' }, 'go', ['again'], 'req-1');
    await engine.signal({ workflowId: 'paused-dedup' }, 'go', ['first'], 'req-0');
    const signals = (await engine.history({ workflowId: 'paused-dedup' })).filter(
      (e) => e.type === 'WorkflowSignaled',
    );
    expect(signals.map((e) => (e.type === 'WorkflowSignaled' ? e.requestId : undefined))).toEqual([
      'req-0',
      'req-1',
    ]);
  });

  it('signal-with-start on a run the store lists as open but the engine could not load fails with the reason', async () => {
    // The run's history cannot be read at recovery (an I/O error); the store still lists it as running.
    class FlakyStore extends MemoryHistoryStore {
      failReads = false;
      latestRunCalls = 0;
      override async readHistory(key: Parameters<MemoryHistoryStore['readHistory']>[0]) {
        if (this.failReads) throw new Error('EIO: i/o error, read');
        return super.readHistory(key);
      }
      override async latestRun(workflowId: string) {
        // Without the fix signal-with-start asks again for ever: stop it so the test fails, not hangs.
        if (++this.latestRunCalls > 50) throw new Error('signal-with-start keeps looping');
        return super.latestRun(workflowId);
      }
    }
    const store = new FlakyStore();
    const first = await makeEngine({ store });
    await first.engine.startWorkflow({ workflowType: 'waiter', workflowId: 'unloadable' });
    await first.engine.waitForIdle();
    store.failReads = true;
    const second = await makeEngine({ store });
    expect(await second.engine.recover()).toEqual({ resumed: 0, paused: 0 });
    store.latestRunCalls = 0;
    const attempt = second.engine.startWorkflow({
      workflowType: 'waiter',
      workflowId: 'unloadable',
      signal: { name: 'go', args: ['x'] },
    });
    await expect(attempt).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/is open in the store, but this server could not load it: EIO/),
    });
    await expect(second.engine.signal({ workflowId: 'unloadable' }, 'go', ['y'])).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    store.failReads = false;
    expect((await store.readHistory((await store.latestRun('unloadable'))!)).map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
    ]);
  });

  it('fires a pending timer by hand: the workflow goes on, and the history records the time it saw', async () => {
    const { engine, clock } = await makeEngine({});
    await engine.startWorkflow({ workflowType: 'sleepy', workflowId: 'napper' });
    await engine.waitForIdle();
    const fired = await engine.fireTimer({ workflowId: 'napper' });
    expect(fired).toMatchObject({
      workflowId: 'napper',
      seq: 1,
      firedAt: new Date(clock.now()).toISOString(),
    });
    expect(await engine.result({ workflowId: 'napper' })).toEqual({ status: 'COMPLETED', result: 'rested' });
    const history = await engine.history({ workflowId: 'napper' });
    const started = history.find((e) => e.type === 'TimerStarted');
    const firedEvent = history.find((e) => e.type === 'TimerFired');
    expect(started?.type === 'TimerStarted' && started.fireAt).toBe(fired.fireAt);
    expect(Date.parse(firedEvent!.eventTime)).toBeLessThan(Date.parse(fired.fireAt));
    // Replaying the history the early firing left reproduces it exactly.
    const { RunExecutor } = await import('../executor.js');
    const code = await loadWorkflowCode({ workflowsPath: fixture('src/workflows/index.ts') });
    expect(RunExecutor.replay(history, { sandbox: code.sandbox }).executor.status).toBe('COMPLETED');
    // The armed timer was disarmed: reaching its deadline adds nothing.
    expect(clock.advanceToNextTimer()).toBe(false);
  });

  it('refuses to fire a timer that is not pending, naming the ones that are', async () => {
    const { engine } = await makeEngine({});
    await engine.startWorkflow({ workflowType: 'sleepy', workflowId: 'napper' });
    await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'no-timer' });
    await engine.waitForIdle();
    await expect(engine.fireTimer({ workflowId: 'napper' }, 7)).rejects.toThrow(
      /no pending timer with seq 7; its pending timers: seq 1 \(fires /,
    );
    await expect(engine.fireTimer({ workflowId: 'no-timer' })).rejects.toThrow(/has no pending timer at all/);
    await expect(engine.fireTimer({ workflowId: 'napper' }, -1)).rejects.toThrow(/non-negative integer/);
  });

  it('tells a query the workflow does not handle from a handler that fails', async () => {
    const { engine } = await makeEngine({});
    await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'asked' });
    await engine.waitForIdle();
    const error = await engine.query({ workflowId: 'asked' }, 'progress', []).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'QueryFailedError', notRegistered: true });
  });
  it('a signal to a workflow ID reaches the current run of its chain, also while it continues as new', async () => {
    const { engine } = await makeEngine({});
    await engine.startWorkflow({ workflowType: 'pingedParent', workflowId: 'chain', args: [12] });
    const outcome = await engine.result({ workflowId: 'chain' });
    expect(outcome).toEqual({
      status: 'COMPLETED',
      result: Array.from({ length: 12 }, (_, i) => `p${i}`).sort(),
    });
  });
  it('serves requests while it recovers open runs: a run asked for before its turn is brought back first', async () => {
    const store = new MemoryHistoryStore();
    const clock = new VirtualClock(Date.parse('2026-01-01T00:00:00Z'));
    const first = await makeEngine({ store, clock });
    const ids = Array.from({ length: 60 }, (_, i) => `r${i}`);
    for (const workflowId of ids) await first.engine.startWorkflow({ workflowType: 'waiter', workflowId });
    await first.engine.waitForIdle();
    // A restart: recovery goes in store order; the last run is asked for at once.
    const second = await makeEngine({ store, clock });
    const progress = await second.engine.startRecovery();
    expect(progress.open).toBe(60);
    const last = ids.at(-1)!;
    expect(await second.engine.query({ workflowId: last }, 'state', [])).toEqual([]);
    await second.engine.signal({ workflowId: last }, 'go', ['early']);
    expect(await progress.done).toEqual({ resumed: 60, paused: 0 });
    await second.engine.whenRecovered();
    for (const workflowId of ids.slice(0, 3)) await second.engine.signal({ workflowId }, 'go', [workflowId]);
    await second.engine.waitForIdle();
    clock.advanceToNextTimer();
    expect(await second.engine.result({ workflowId: last })).toEqual({
      status: 'COMPLETED',
      result: ['did early', 'did after sleep'],
    });
    expect(await second.engine.result({ workflowId: 'r0' })).toMatchObject({ status: 'COMPLETED' });
  });
});
