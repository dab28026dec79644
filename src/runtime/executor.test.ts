import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history/events.js';
import { NonDeterminismError } from './errors.js';
import { RunExecutor, roleOf } from './executor.js';
import { loadWorkflowCode } from './workflow-code.js';

const workflowsPath = fileURLToPath(
  new URL('../../test/fixtures/engine/src/workflows/index.ts', import.meta.url),
);
const T0 = Date.parse('2026-01-01T00:00:00Z');

async function options() {
  const code = await loadWorkflowCode({ workflowsPath });
  return { sandbox: code.sandbox, resolveCallSite: code.resolveCallSite };
}

function start(workflowType: string, args: unknown[] = []) {
  return {
    workflowType,
    workflowId: 'w',
    runId: 'r',
    firstRunId: 'r',
    args,
    randomnessSeed: 'seed',
    attempt: 1,
  };
}

describe('RunExecutor', () => {
  it('turns a start into the started event and the commands of the first activation', async () => {
    const { events } = RunExecutor.start(start('steps', [2]), T0, await options());
    expect(events.map((e) => [e.eventId, e.type])).toEqual([
      [1, 'WorkflowExecutionStarted'],
      [2, 'ActivityTaskScheduled'],
    ]);
    expect(events[1]).toMatchObject({ activityType: 'step', seq: 1, args: ['0'] });
    expect(events[1]).toMatchObject({ callSite: { file: expect.stringMatching(/workflows\/index\.ts$/) } });
  });

  it('records an input with the commands it caused, and replays the result to the same state', async () => {
    const opts = await options();
    const { executor, events } = RunExecutor.start(start('steps', [2]), T0, opts);
    const more = await executor.handle(
      { type: 'ActivityTaskCompleted', seq: 1, attempt: 1, result: 'did 0' },
      T0 + 5,
    );
    expect(more.map((e) => e.type)).toEqual(['ActivityTaskCompleted', 'ActivityTaskScheduled']);
    const history = [...events, ...more];
    const replayed = RunExecutor.replay(history, opts);
    expect(replayed.events).toEqual([]);
    expect([...replayed.executor.activities.keys()]).toEqual([2]);
    expect(replayed.executor.nextEventId).toBe(history.length + 1);
  });

  it('issues the commands a crash kept from being recorded, numbered after the history', async () => {
    const opts = await options();
    const { events } = RunExecutor.start(start('steps', [1]), T0, opts);
    // The started event became durable; the ActivityTaskScheduled of the same batch did not.
    const { events: reissued } = RunExecutor.replay(events.slice(0, 1), opts);
    expect(reissued.map((e) => [e.eventId, e.type])).toEqual([[2, 'ActivityTaskScheduled']]);
  });

  it('names the event, both sides and a fix when the code diverges', async () => {
    const opts = await options();
    const { events } = RunExecutor.start(start('steps', [1]), T0, opts);
    const tampered = events.map((e) =>
      e.type === 'ActivityTaskScheduled' ? { ...e, activityType: 'chargeCard' } : e,
    ) as HistoryEvent[];
    let error: unknown;
    try {
      RunExecutor.replay(tampered, opts);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NonDeterminismError);
    const details = (error as NonDeterminismError).details;
    expect(details.eventId).toBe(2);
    expect(details.recordedDescription).toBe('ActivityTaskScheduled chargeCard (seq 1)');
    expect(details.issued?.description).toBe('ActivityTaskScheduled step (seq 1)');
    expect(details.issued?.callSite?.file).toMatch(/workflows\/index\.ts$/);
    expect((error as Error).message).toContain('patched(');
  });

  it('names where the code waits when it issued nothing where the history has a command', async () => {
    const opts = await options();
    const { events } = RunExecutor.start(start('steps', [1]), T0, opts);
    const at = new Date(T0).toISOString();
    const extra = { eventId: 3, eventTime: at, type: 'TimerStarted', seq: 1, durationMs: 1000, fireAt: at };
    let error: unknown;
    try {
      RunExecutor.replay([...events, extra as HistoryEvent], opts);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NonDeterminismError);
    const { details } = error as NonDeterminismError;
    expect(details.issued).toBeUndefined();
    expect(details.waitingAt?.[0]).toMatchObject({
      description: 'activity step (seq 1)',
      callSite: { file: expect.stringMatching(/workflows\/index\.ts$/) },
    });
    expect((error as NonDeterminismError).codeSite).toEqual(details.waitingAt?.[0]?.callSite);
    expect((error as Error).message).toMatch(
      /code issued: +nothing; it now waits on activity step \(seq 1\) at .*index\.ts:\d+:\d+/,
    );
  });

  it('treats a retry as information and only the final outcome as an input', () => {
    const base = { eventId: 3, eventTime: new Date(T0).toISOString(), seq: 1, attempt: 1 };
    const failure = { name: 'Error', message: 'x' };
    expect(roleOf({ ...base, type: 'ActivityTaskFailed', failure, nextRetryDelayMs: 1000 })).toBe('info');
    expect(roleOf({ ...base, type: 'ActivityTaskFailed', failure })).toBe('input');
    expect(roleOf({ ...base, type: 'ActivityTaskStarted' })).toBe('info');
    expect(roleOf({ ...base, type: 'TimerStarted', durationMs: 1, fireAt: base.eventTime })).toBe('command');
    expect(roleOf({ ...base, type: 'WorkflowExecutionTerminated' })).toBe('external-close');
  });

  it("gives crypto.randomUUID and getRandomValues the run's seed, and URL and TextEncoder to workflow code", async () => {
    const opts = await options();
    const resultOf = (seed: string) => {
      const { events } = RunExecutor.start({ ...start('entropy'), randomnessSeed: seed }, T0, opts);
      const done = events.at(-1)!;
      if (done.type !== 'WorkflowExecutionCompleted')
        throw new Error(`expected completion, got ${done.type}`);
      return done.result as Record<string, unknown>;
    };
    const first = resultOf('seed-a');
    expect(first).toMatchObject({ z: '1', encoded: 3 });
    expect(first.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(resultOf('seed-a')).toEqual(first);
    expect(resultOf('seed-b').uuid).not.toBe(first.uuid);
  });

  it('reads local time as UTC, so a history replays the same in every time zone', async () => {
    const opts = await options();
    const previous = process.env.TZ;
    const resultIn = (tz: string) => {
      process.env.TZ = tz;
      const done = RunExecutor.start(start('localTime'), T0, opts).events.at(-1)!;
      if (done.type !== 'WorkflowExecutionCompleted')
        throw new Error(`expected completion, got ${done.type}`);
      return done.result;
    };
    try {
      const tokyo = resultIn('Asia/Tokyo');
      expect(resultIn('America/New_York')).toEqual(tokyo);
      expect(tokyo).toMatchObject({ hours: 0, offset: 0, fromParts: Date.UTC(2026, 0, 1, 12) });
      expect(tokyo).toMatchObject({ text: expect.stringContaining('00:00:00 GMT+0000') });
    } finally {
      if (previous === undefined) delete process.env.TZ;
      else process.env.TZ = previous;
    }
  });
});

describe('RunExecutor on histories recorded by earlier versions', () => {
  const replayPath = fileURLToPath(
    new URL('../../test/fixtures/replay/src/workflows/index.ts', import.meta.url),
  );
  const replayOptions = async () => {
    const code = await loadWorkflowCode({ workflowsPath: replayPath });
    return { sandbox: code.sandbox, resolveCallSite: code.resolveCallSite };
  };
  const at = new Date(T0).toISOString();

  it('replays a history whose background coroutine started a timer two ticks after the function returned', async () => {
    // As recorded before signal-with-start: the workflow function is called a tick after the
    // activation, so the coroutine's timer lands before the completion.
    const recorded = [
      {
        eventId: 1,
        eventTime: at,
        type: 'WorkflowExecutionStarted',
        formatVersion: 1,
        ...start('lateTimer'),
      },
      {
        eventId: 2,
        eventTime: at,
        type: 'TimerStarted',
        seq: 1,
        durationMs: 60_000,
        fireAt: new Date(T0 + 60_000).toISOString(),
      },
      { eventId: 3, eventTime: at, type: 'WorkflowExecutionCompleted', result: 'done' },
    ] as HistoryEvent[];
    const opts = await replayOptions();
    expect(RunExecutor.replay(recorded, opts).events).toEqual([]);
    // New runs record the same order.
    const fresh = RunExecutor.start(start('lateTimer'), T0, opts).events;
    expect(fresh.map((e) => e.type)).toEqual(recorded.map((e) => e.type));
  });

  it('hands a signal sent with the start to the handler the function sets, before its first await resumes', async () => {
    const opts = await replayOptions();
    const { events } = RunExecutor.start(start('startOrder'), T0, opts, { name: 'go', args: ['x'] });
    expect(events.map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'WorkflowSignaled',
      'WorkflowExecutionCompleted',
    ]);
    expect(events.at(-1)).toMatchObject({ result: ['signal x', 'body', 'after first await'] });
    expect(RunExecutor.replay(events, opts).events).toEqual([]);
  });
});

describe('RunExecutor queries and update validators', () => {
  const replayPath = fileURLToPath(
    new URL('../../test/fixtures/replay/src/workflows/index.ts', import.meta.url),
  );

  it("draw randomness that leaves the run's sequence where it was", async () => {
    const code = await loadWorkflowCode({ workflowsPath: replayPath });
    const opts = { sandbox: code.sandbox };
    const run = async (ask: boolean) => {
      const { executor, events } = RunExecutor.start(start('draws'), T0, opts);
      const history = [...events];
      for (let seq = 1; seq <= 2; seq++) {
        if (ask) {
          expect(executor.query('draw', []).ok).toBe(true);
          expect(executor.query('drawUuid', []).ok).toBe(true);
          expect(executor.validateUpdate('u-1', 'bump', [1])).toEqual({ accepted: true });
        }
        history.push(...(await executor.handle({ type: 'TimerFired', seq }, T0 + seq * 60_000)));
      }
      return history;
    };
    const quiet = await run(false);
    const asked = await run(true);
    expect(asked.at(-1)).toEqual(quiet.at(-1));
    // A replay (no queries) of the asked run's history draws the same numbers it returned.
    const { events } = RunExecutor.replay(asked.slice(0, -1), opts);
    expect(events.at(-1)).toMatchObject({
      type: 'WorkflowExecutionCompleted',
      result: (asked.at(-1) as { result: unknown }).result,
    });
    // Queries draw reproducibly, but not the run's numbers.
    const { executor } = RunExecutor.replay(asked.slice(0, 2), opts);
    const first = executor.query('draw', []);
    expect(executor.query('draw', [])).toEqual(first);
    expect(first).toMatchObject({ ok: true, result: expect.any(Number) });
  });
});

describe('RunExecutor reports on commands no call issues', () => {
  const replayPath = fileURLToPath(
    new URL('../../test/fixtures/replay/src/workflows/index.ts', import.meta.url),
  );

  it("names an update's handler when its completion diverges", async () => {
    const code = await loadWorkflowCode({ workflowsPath: replayPath });
    const opts = { sandbox: code.sandbox, resolveCallSite: code.resolveCallSite };
    const { executor, events } = RunExecutor.start(start('draws'), T0, opts);
    const accepted = await executor.handle(
      { type: 'WorkflowUpdateAccepted', updateId: 'u-1', updateName: 'bump', args: [2] },
      T0 + 1,
    );
    expect(accepted.map((e) => e.type)).toEqual(['WorkflowUpdateAccepted', 'WorkflowUpdateCompleted']);
    const at = new Date(T0 + 1).toISOString();
    const tampered = [
      ...events,
      accepted[0]!,
      { eventId: 4, eventTime: at, type: 'TimerStarted', seq: 2, durationMs: 1, fireAt: at } as HistoryEvent,
    ];
    let error: unknown;
    try {
      RunExecutor.replay(tampered, opts);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NonDeterminismError);
    const { details } = error as NonDeterminismError;
    expect(details.issued?.description).toBe('WorkflowUpdateCompleted u-1');
    const handlerLine =
      readFileSync(replayPath, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('setHandler(bump')) + 1;
    expect(details.issued?.callSite).toMatchObject({
      file: expect.stringMatching(/replay\/src\/workflows\/index\.ts$/),
      line: handlerLine,
    });
  });
});

describe('the sandbox does not follow the host', () => {
  const replayPath = fileURLToPath(
    new URL('../../test/fixtures/replay/src/workflows/index.ts', import.meta.url),
  );

  it("reads dates without an offset as UTC, formats with en-US in UTC, and returns this realm's objects", async () => {
    const code = await loadWorkflowCode({ workflowsPath: replayPath });
    const previous = process.env.TZ;
    const resultIn = (tz: string) => {
      process.env.TZ = tz;
      const done = RunExecutor.start(start('hostIndependent'), T0, { sandbox: code.sandbox }).events.at(-1)!;
      if (done.type !== 'WorkflowExecutionCompleted')
        throw new Error(`expected completion, got ${done.type}`);
      return done.result;
    };
    try {
      const tokyo = resultIn('Asia/Tokyo');
      expect(resultIn('America/New_York')).toEqual(tokyo);
      const ten = Date.UTC(2026, 0, 1, 10);
      expect(tokyo).toEqual({
        parsedLocal: ten,
        constructedLocal: ten,
        parsedLegacy: ten,
        parsedSlashes: Date.UTC(2026, 0, 1),
        parsedOffset: ten - 3_600_000,
        parsedZulu: ten,
        parsedGmt: ten - 9 * 3_600_000,
        parsedDateOnly: Date.UTC(2026, 0, 1),
        invalid: true,
        dateFormat: '1/1/1970',
        dateTimeZone: 'UTC',
        dateLocale: 'en-US',
        explicitZone: '9 AM',
        number: '1,234.5',
        numberLocale: '1,234.5',
        explicitLocale: '1.234,5',
        collatorLocale: 'en-US',
        compare: -1,
        dateLocaleString: '1/1/1970, 12:00:00 AM',
        arrayLocaleString: '1,234.5,1/1/1970, 12:00:00 AM',
        encodedIsUint8Array: true,
        encodedBytes: [104, 195, 169],
        cloneIsObject: true,
        cloneParts: [true, true, true, true, 0, 2, 7],
      });
    } finally {
      if (previous === undefined) delete process.env.TZ;
      else process.env.TZ = previous;
    }
  });
});
