import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MemoryHistoryStore } from '../../history/memory-store.js';
import { VirtualClock } from '../clock.js';
import { loadWorkflowCode } from '../workflow-code.js';
import { type EngineSpan, WorkflowEngine } from './index.js';

const fixture = (path: string) => fileURLToPath(new URL(`../../../test/fixtures/${path}`, import.meta.url));

const CALLER = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
const header = { traceparent: `00-${CALLER.traceId}-${CALLER.spanId}-01`, tracestate: 'vendor=x' };

async function makeEngine(
  spans: EngineSpan[],
  options: { store?: MemoryHistoryStore; clock?: VirtualClock; maxCachedRuns?: number } = {},
) {
  const code = await loadWorkflowCode({
    workflowsPath: fixture('engine/src/workflows/index.ts'),
    activitiesPath: fixture('engine/src/activities/index.ts'),
  });
  const clock = options.clock ?? new VirtualClock(Date.parse('2026-01-01T00:00:00Z'));
  const store = options.store ?? new MemoryHistoryStore();
  const engine = new WorkflowEngine({
    store,
    code,
    clock,
    activities: { step: async (name: string) => `did ${name}` },
    tracing: { span: (span) => spans.push(span) },
    ...(options.maxCachedRuns ? { maxCachedRuns: options.maxCachedRuns } : {}),
  });
  return { engine, clock, code, store };
}

const named = (spans: EngineSpan[], name: string) => spans.filter((s) => s.name === name);

function expectUnique(spans: EngineSpan[]): void {
  expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
}

describe('engine tracing', () => {
  it("joins the caller's trace and emits each step once: evictions, a reload and queries add no duplicate", async () => {
    const spans: EngineSpan[] = [];
    const { engine, clock, code } = await makeEngine(spans, { maxCachedRuns: 1 });
    await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'w0', header });
    await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'w1' });
    await engine.waitForIdle();
    const sender = { traceId: 'aaaabbbbccccddddeeeeffff00001111', spanId: '1234567812345678' };
    await engine.signal({ workflowId: 'w0' }, 'go', ['w0'], undefined, {
      traceparent: `00-${sender.traceId}-${sender.spanId}-01`,
    });
    await engine.signal({ workflowId: 'w1' }, 'go', ['w1']);
    await engine.waitForIdle();
    expect(await engine.setCode(code)).toEqual({ paused: [] });
    expect(await engine.query({ workflowId: 'w0' }, 'state', [])).toEqual(['did w0']);
    expect(named(spans, 'RunWorkflow:waiter')).toEqual([]);
    clock.advanceToNextTimer();
    await engine.waitForIdle();

    expectUnique(spans);
    const w0 = spans.filter((s) => s.attributes['wf.workflow.id'] === 'w0');
    expect(w0.map((s) => s.name).sort()).toEqual(
      [
        'HandleQuery:state',
        'HandleSignal:go',
        'RunActivity:step',
        'RunActivity:step',
        'RunWorkflow:waiter',
        'StartActivity:step',
        'StartActivity:step',
      ].sort(),
    );
    expect(new Set(w0.map((s) => s.traceId))).toEqual(new Set([CALLER.traceId]));
    expect(w0.every((s) => s.traceState === 'vendor=x')).toBe(true);
    const run = named(w0, 'RunWorkflow:waiter')[0] as EngineSpan;
    // The signal is handled in the run's trace, linked to its sender's span.
    expect(named(w0, 'HandleSignal:go')[0]?.links).toEqual([{ ...sender, sampled: true }]);
    expect(run).toMatchObject({ kind: 'server', parentSpanId: CALLER.spanId, remoteParent: true });
    expect(run.endTime.getTime() - run.startTime.getTime()).toBeGreaterThanOrEqual(3_600_000);
    for (const span of w0.filter((s) => s !== run && !s.name.startsWith('RunActivity'))) {
      expect(span.parentSpanId).toBe(run.spanId);
    }
    const starts = new Map(named(w0, 'StartActivity:step').map((s) => [s.spanId, s]));
    for (const attempt of named(w0, 'RunActivity:step')) {
      expect(starts.has(attempt.parentSpanId as string)).toBe(true);
      expect(attempt.attributes).toMatchObject({
        'wf.activity.attempt': 1,
        'wf.activity.outcome': 'completed',
      });
    }
    // A run nobody traced has a trace of its own, named after its run ID.
    const w1 = spans.filter((s) => s.attributes['wf.workflow.id'] === 'w1');
    expect(new Set(w1.map((s) => s.traceId)).size).toBe(1);
    expect(w1[0]?.traceId).not.toBe(CALLER.traceId);
    expect(named(w1, 'RunWorkflow:waiter')[0]?.parentSpanId).toBeUndefined();
  });

  it('times an attempt from when it began, also when its run was evicted while it ran', async () => {
    const spans: EngineSpan[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const code = await loadWorkflowCode({
      workflowsPath: fixture('engine/src/workflows/index.ts'),
      activitiesPath: fixture('engine/src/activities/index.ts'),
    });
    const clock = new VirtualClock(Date.parse('2026-01-01T00:00:00Z'));
    const engine = new WorkflowEngine({
      store: new MemoryHistoryStore(),
      code,
      clock,
      activities: {
        step: async (name: string) => {
          if (name === 'slow') await gate;
          return `did ${name}`;
        },
      },
      tracing: { span: (span) => spans.push(span) },
      maxCachedRuns: 1,
    });
    await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'slow' });
    await engine.signal({ workflowId: 'slow' }, 'go', ['slow']);
    // Another run takes the one cache slot: "slow" is evicted while its attempt runs.
    await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'other' });
    await engine.waitForSettled();
    clock.advanceTo(clock.now() + 5000);
    release();
    await expect.poll(() => named(spans, 'RunActivity:step').length).toBe(1);
    const attempt = named(spans, 'RunActivity:step')[0] as EngineSpan;
    expect(attempt.endTime.getTime() - attempt.startTime.getTime()).toBe(5000);
    await engine.shutdown();
  });

  it('ends a run begun before a restart as the same span, and emits nothing for the steps it replays', async () => {
    const before: EngineSpan[] = [];
    const first = await makeEngine(before);
    await first.engine.startWorkflow({ workflowType: 'waiter', workflowId: 'r', header });
    await first.engine.signal({ workflowId: 'r' }, 'go', ['one']);
    await first.engine.waitForIdle();
    await first.engine.shutdown();
    expect(before.map((s) => s.name).sort()).toEqual([
      'HandleSignal:go',
      'RunActivity:step',
      'StartActivity:step',
    ]);

    const after: EngineSpan[] = [];
    const second = await makeEngine(after, { store: first.store, clock: first.clock });
    await second.engine.recover();
    second.clock.advanceToNextTimer();
    await second.engine.waitForIdle();
    expect((await second.engine.result({ workflowId: 'r' })).status).toBe('COMPLETED');
    expect(after.map((s) => s.name).sort()).toEqual([
      'RunActivity:step',
      'RunWorkflow:waiter',
      'StartActivity:step',
    ]);

    const all = [...before, ...after];
    expectUnique(all);
    const run = named(after, 'RunWorkflow:waiter')[0] as EngineSpan;
    const history = await second.engine.history({ workflowId: 'r' });
    expect(run.startTime.toISOString()).toBe(history[0]?.eventTime);
    for (const span of [...before, ...after].filter((s) => s.name !== 'RunActivity:step' && s !== run)) {
      expect(span.parentSpanId).toBe(run.spanId);
    }
    expect(new Set(all.map((s) => s.traceId))).toEqual(new Set([CALLER.traceId]));
  });

  it('puts children, the runs a chain continues as, and signals between workflows in the same trace', async () => {
    const spans: EngineSpan[] = [];
    const { engine, clock } = await makeEngine(spans);
    await engine.startWorkflow({ workflowType: 'parentOfSleepy', workflowId: 'parent', header });
    await engine.startWorkflow({ workflowType: 'pingedParent', workflowId: 'chain', args: [2], header });
    await engine.waitForIdle();
    clock.advanceToNextTimer();
    await engine.waitForIdle();
    expect((await engine.result({ workflowId: 'parent' })).status).toBe('COMPLETED');
    expect(await engine.result({ workflowId: 'chain', followRuns: true })).toMatchObject({
      status: 'COMPLETED',
    });

    expectUnique(spans);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([CALLER.traceId]));
    const [startChild] = named(spans, 'StartChildWorkflowExecution:sleepy');
    const [childRun] = named(spans, 'RunWorkflow:sleepy');
    expect(childRun?.parentSpanId).toBe(startChild?.spanId);
    expect(startChild?.parentSpanId).toBe(named(spans, 'RunWorkflow:parentOfSleepy')[0]?.spanId);

    // The chain: each run a child of the one it continued from, the first of the caller.
    const chain = named(spans, 'RunWorkflow:pingedParent');
    expect(chain.length).toBeGreaterThanOrEqual(2);
    const first = chain.find((s) => s.parentSpanId === CALLER.spanId) as EngineSpan;
    expect(first.attributes['wf.workflow.outcome']).toBe('continued_as_new');
    const runSpans = new Set(chain.map((s) => s.spanId));
    for (const run of chain.filter((s) => s !== first)) {
      expect(runSpans.has(run.parentSpanId as string)).toBe(true);
      expect(run.attributes['wf.workflow.continued_from_run_id']).toBeDefined();
    }
    const sent = named(spans, 'SignalExternalWorkflow:ping');
    expect(sent).toHaveLength(2);
    const handled = named(spans, 'HandleSignal:ping');
    expect(handled).toHaveLength(2);
    // Each handled signal links to the span that sent it.
    expect(new Set(handled.map((s) => s.links?.[0]?.spanId))).toEqual(new Set(sent.map((s) => s.spanId)));
  });
});
