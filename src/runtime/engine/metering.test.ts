import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { serializeEventWithCrc } from '../../history/codec.js';
import { MemoryHistoryStore } from '../../history/memory-store.js';
import { VirtualClock } from '../clock.js';
import { loadWorkflowCode } from '../workflow-code.js';
import { type EngineMetrics, WorkflowEngine } from './index.js';

const fixture = (path: string) => fileURLToPath(new URL(`../../../test/fixtures/${path}`, import.meta.url));

/** A sink that keeps every call, timings reduced to their name (their values vary). */
function recordingSink() {
  const calls: string[] = [];
  const record =
    (name: string) =>
    (...args: unknown[]) => {
      calls.push([name, ...args.filter((a) => typeof a !== 'number' || Number.isInteger(a))].join(' '));
    };
  const timed =
    (name: string) =>
    (label: string, ...seconds: number[]) => {
      for (const s of seconds) expect(s).toBeGreaterThanOrEqual(0);
      calls.push(`${name} ${label}`);
    };
  const sink: EngineMetrics = {
    workflowStarted: record('workflowStarted'),
    workflowClosed: record('workflowClosed'),
    workflowActivated: timed('workflowActivated'),
    workflowReplayed: timed('workflowReplayed'),
    workflowEvicted: record('workflowEvicted'),
    workflowPaused: record('workflowPaused'),
    signalReceived: record('signalReceived'),
    updateHandled: record('updateHandled'),
    queryHandled: record('queryHandled'),
    timerStarted: record('timerStarted'),
    timerFired: record('timerFired'),
    activityScheduled: record('activityScheduled'),
    activityAttemptStarted: record('activityAttemptStarted'),
    activityAttemptRecorded: record('activityAttemptRecorded'),
    activityAttemptTimed: timed('activityAttemptTimed'),
    storeAppended: (_seconds, events, bytes) => {
      expect(events).toBeGreaterThan(0);
      expect(bytes).toBeGreaterThanOrEqual(0);
      written.bytes += bytes;
      calls.push('storeAppended');
    },
  };
  const written = { bytes: 0 };
  const count = (call: string) => calls.filter((c) => c === call).length;
  return { sink, calls, count, written };
}

async function makeEngine(metrics: EngineMetrics, maxCachedRuns?: number) {
  const code = await loadWorkflowCode({
    workflowsPath: fixture('engine/src/workflows/index.ts'),
    activitiesPath: fixture('engine/src/activities/index.ts'),
  });
  const clock = new VirtualClock(Date.parse('2026-01-01T00:00:00Z'));
  const engine = new WorkflowEngine({
    store: new MemoryHistoryStore(),
    code,
    clock,
    activities: { step: async (name: string) => `did ${name}` },
    metrics,
    ...(maxCachedRuns ? { maxCachedRuns } : {}),
  });
  return { engine, clock, code };
}

describe('engine metrics', () => {
  it('counts each durable step once: runs evicted and rebuilt by replay, and a reload, count nothing again', async () => {
    const { sink, count, written } = recordingSink();
    const { engine, clock, code } = await makeEngine(sink, 1);
    await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'w0' });
    await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'w1' });
    await engine.waitForIdle();
    expect(count('workflowEvicted waiter')).toBe(1);
    for (const id of ['w0', 'w1']) await engine.signal({ workflowId: id }, 'go', [id]);
    await engine.waitForIdle();
    expect(count('workflowReplayed waiter')).toBeGreaterThanOrEqual(1);
    // A reload rebuilds every open run by replay.
    const replaysBefore = count('workflowReplayed waiter');
    expect(await engine.setCode(code)).toEqual({ paused: [] });
    expect(count('workflowReplayed waiter')).toBe(replaysBefore + 2);
    expect(await engine.query({ workflowId: 'w0' }, 'state', [])).toEqual(['did w0']);
    await expect(engine.query({ workflowId: 'w0' }, 'nope', [])).rejects.toThrow();
    clock.advanceToNextTimer();
    await engine.waitForIdle();
    for (const id of ['w0', 'w1']) {
      expect(await engine.result({ workflowId: id })).toMatchObject({ status: 'COMPLETED' });
    }

    expect(count('workflowStarted waiter')).toBe(2);
    expect(count('signalReceived waiter')).toBe(2);
    expect(count('activityScheduled step')).toBe(4);
    expect(count('activityAttemptStarted step')).toBe(4);
    expect(count('activityAttemptRecorded step completed false')).toBe(4);
    expect(count('activityAttemptTimed step')).toBe(4);
    expect(count('timerStarted waiter')).toBe(2);
    expect(count('timerFired waiter')).toBe(2);
    expect(count('queryHandled waiter answered')).toBe(1);
    expect(count('queryHandled waiter failed')).toBe(1);
    const history = await engine.history({ workflowId: 'w0' });
    expect(count(`workflowClosed waiter completed ${history.length}`)).toBe(2);
    // The bytes are the store's own count of the lines it wrote: each event's line and a newline.
    let lines = 0;
    for (const id of ['w0', 'w1']) {
      for (const event of await engine.history({ workflowId: id }))
        lines += Buffer.byteLength(`${serializeEventWithCrc(event)}\n`);
    }
    expect(written.bytes).toBe(lines);
  });

  it('counts a pause for non-determinism, and a terminate', async () => {
    const { sink, count } = recordingSink();
    const { engine } = await makeEngine(sink);
    await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'p' });
    await engine.signal({ workflowId: 'p' }, 'go', ['first']);
    await engine.waitForIdle();
    const changed = await loadWorkflowCode({
      workflowsPath: fixture('engine-changed/src/workflows/index.ts'),
    });
    expect(await engine.setCode(changed)).toEqual({ paused: ['p'] });
    expect(count('workflowPaused waiter nondeterminism')).toBe(1);
    // Recorded while paused: counted once, when durable.
    await engine.signal({ workflowId: 'p' }, 'go', ['again']);
    await engine.terminate({ workflowId: 'p' }, 'broken code');
    expect(count('signalReceived waiter')).toBe(2);
    expect(count('workflowStarted waiter')).toBe(1);
    const length = (await engine.history({ workflowId: 'p' })).length;
    expect(count(`workflowClosed waiter terminated ${length}`)).toBe(1);
  });
});
