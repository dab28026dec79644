// The benchmark cases. Each runs in its own node process (see worker.js) and returns result rows.
import { openLocalEngine } from '../dist/devserver/local-engine.js';
import { parseHistoryJsonl, serializeHistoryJsonl } from '../dist/history/codec.js';
import { FileHistoryStore } from '../dist/history/file-store.js';
import { MemoryHistoryStore } from '../dist/history/memory-store.js';
import { bundleWorkflows } from '../dist/runtime/bundler.js';
import { WorkflowEngine } from '../dist/runtime/engine/index.js';
import { RunExecutor } from '../dist/runtime/executor.js';
import { WorkflowSandbox } from '../dist/runtime/sandbox.js';
import { workflowThread } from '../dist/runtime/sandbox-thread.js';
import { loadWorkflowCode, workflowCodeFromBundle } from '../dist/runtime/workflow-code.js';
import { devCases } from './dev.js';
import { floorsCase } from './floors.js';
import {
  ACTIVITIES,
  activities,
  execute,
  FIXTURE,
  gc,
  median,
  medianMs,
  now,
  PEERS,
  percentile,
  removeDir,
  row,
  tempDir,
  WORKFLOWS,
} from './lib.js';
import { postgresStoreCase } from './postgres.js';
import { serveCase } from './serve.js';
import { tracingCase } from './tracing.js';
import { webUiCases } from './webui.js';

const QUICK = process.env.WF_BENCH_QUICK === '1';
const SERIAL_STEPS = 200;
const CONCURRENT_RUNS = 100;
const CONCURRENT_STEPS = 50;
/** Closed runs the closed-run memory case keeps in its store. */
const CLOSED_RUNS = QUICK ? 2000 : 5000;

/**
 * A warm-up run, then three runs of `SERIAL_STEPS` steps one after the other (median), then
 * `CONCURRENT_RUNS` runs of `CONCURRENT_STEPS` steps at once.
 */
async function stepRounds(engine, prefix) {
  // Long enough for both threads' code to be optimised: a server's steady state is what counts.
  await execute(engine, 'steps', `${prefix}-warmup`, [300]);
  // The fixture's activity notes when it runs: the gaps between two calls of one run are its steps.
  const gaps = [];
  const serialMs = await medianMs(3, async (i) => {
    const times = [];
    globalThis.__wfBenchStepTimes = times;
    await execute(engine, 'steps', `${prefix}-serial-${i}`, [SERIAL_STEPS]);
    globalThis.__wfBenchStepTimes = undefined;
    for (let j = 1; j < times.length; j++) gaps.push(times[j] - times[j - 1]);
  });
  const start = now();
  await Promise.all(
    Array.from({ length: CONCURRENT_RUNS }, (_, i) =>
      execute(engine, 'steps', `${prefix}-concurrent-${i}`, [CONCURRENT_STEPS]),
    ),
  );
  const concurrentMs = now() - start;
  const total = CONCURRENT_RUNS * CONCURRENT_STEPS;
  return { serialMs, concurrentMs, total, gaps };
}

async function memorySteps(label, sandboxOptions) {
  const code = await loadWorkflowCode({
    workflowsPath: WORKFLOWS,
    activitiesPath: ACTIVITIES,
    ...sandboxOptions,
  });
  const engine = new WorkflowEngine({ store: new MemoryHistoryStore(), code, activities });
  try {
    const { serialMs, total, concurrentMs, gaps } = await stepRounds(engine, 'memory');
    const start = now();
    await execute(engine, 'steps', 'memory-serial-2000', [2000]);
    const longMs = now() - start;
    return [
      row(`${label}: one run, 200 sequential steps`, (serialMs / SERIAL_STEPS) * 1000, 'µs/step', {
        ...(sandboxOptions.activationTimeoutMs === 0 ? {} : { id: 'memory-step' }),
        detail: {
          p50: median(gaps) * 1000,
          how: 'mean of a steps(200) run, median of 3 runs; p50: µs between activity calls',
        },
      }),
      row(`${label}: one run, 2,000 sequential steps`, (longMs / 2000) * 1000, 'µs/step'),
      row(
        `${label}: ${CONCURRENT_RUNS} runs x ${CONCURRENT_STEPS} steps at once`,
        total / (concurrentMs / 1000),
        'steps/s',
      ),
      row(`${label}: same, amortized`, (concurrentMs / total) * 1000, 'µs/step'),
    ];
  } finally {
    await engine.shutdown();
  }
}

/**
 * Heap in use after full collections, the workflow thread's included (runs' workflow code lives
 * there); the pause lets the host's finalizers tell the thread which runs it may forget.
 */
async function heapUsed() {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc();
  return process.memoryUsage().heapUsed + workflowThread().heapUsed();
}

/** The engine of `wf dev` (in this process) on the fixture, with its store in `storeDir`. */
function openFixtureEngine(storeDir) {
  return openLocalEngine({
    root: FIXTURE,
    workflowsPath: WORKFLOWS,
    activitiesPath: ACTIVITIES,
    storeDir,
    port: 0,
  });
}

export const cases = {
  ...devCases,
  ...webUiCases,
  /** The engine step with tracing off and on: what OpenTelemetry costs per step (bench/tracing.js). */
  tracing: tracingCase,

  /** The floors: fdatasync of a small append, JSON.parse of JSON Lines, `node -e 0`. */
  floors: floorsCase,

  /** Heap kept per closed run by the engine of wf dev on the file store (summaries, caches). */
  async 'closed-memory'() {
    const dir = await tempDir('closed');
    const local = await openFixtureEngine(dir);
    try {
      // A server's steady state: the first runs also leave the code V8 optimises for them (about
      // 0.3 KB a run over the first thousands, then nothing), which is not what a closed run keeps.
      // That first round is in the rows; the figure is the next round's.
      const round = async (name) => {
        for (let i = 0; i < CLOSED_RUNS; i++) await execute(local.engine, 'empty', `${name}-${i}`);
        await new Promise((r) => setTimeout(r, 2500)); // the delayed index rewrite
        return heapUsed();
      };
      for (let i = 0; i < 100; i++) await execute(local.engine, 'empty', `warm-${i}`);
      await new Promise((r) => setTimeout(r, 2500));
      const start = await heapUsed();
      const before = await round('first');
      const after = await round('closed');
      return [
        row(
          `heap kept per closed run (wf dev's engine, file store, ${CLOSED_RUNS} runs after ${CLOSED_RUNS})`,
          (after - before) / CLOSED_RUNS / 1024,
          'KB/run',
          {
            id: 'mem-closed',
            n: CLOSED_RUNS,
            detail: { heapBeforeMB: before / 2 ** 20, heapAfterMB: after / 2 ** 20 },
          },
        ),
        row(
          `heap per closed run over the first ${CLOSED_RUNS} (code optimised for them included)`,
          (before - start) / CLOSED_RUNS / 1024,
          'KB/run',
        ),
      ];
    } finally {
      await local.close();
      await removeDir(dir);
    }
  },

  /** The PostgreSQL store alone (bench/postgres.js): appends/s and owned-append latency. */
  'postgres-store': postgresStoreCase,

  /** 1, 2 and 4 `wf serve` processes on one PostgreSQL, over HTTP (bench/serve.js). */
  'serve-steps': serveCase,

  /** 1. A durable step on the file store (fdatasync, group commit) and the real clock. */
  async 'file-steps'() {
    const dir = await tempDir('file');
    const local = await openFixtureEngine(dir);
    try {
      const before = local.store.stats();
      const { serialMs, total, concurrentMs, gaps } = await stepRounds(local.engine, 'file');
      if (gaps.length < SERIAL_STEPS) throw new Error(`the fixture activity noted ${gaps.length} step gaps`);
      const stats = local.store.stats();
      return [
        row('file store: durable step, one run, sequential (p50 of 3 x 199 steps)', median(gaps), 'ms/step', {
          id: 'file-step-p50',
          peers: [PEERS.restateStep, PEERS.dbosStep],
          detail: {
            p90: percentile(gaps, 90),
            p99: percentile(gaps, 99),
            how: 'time between two consecutive activity calls of one steps(200) run: completion appended (fdatasync), activation, next schedule appended, dispatch',
          },
        }),
        row('file store: one run, 200 sequential steps', serialMs / SERIAL_STEPS, 'ms/step', {
          peers: [PEERS.restateStep, PEERS.dbosStep],
        }),
        row(
          `file store: ${CONCURRENT_RUNS} runs x ${CONCURRENT_STEPS} steps at once`,
          total / (concurrentMs / 1000),
          'steps/s',
          { id: 'file-100x50' },
        ),
        row('file store: same, amortized', concurrentMs / total, 'ms/step', {
          peers: [PEERS.restateStep, PEERS.dbosStep],
        }),
        row(
          'file store: events per fdatasync (all rounds)',
          (stats.events - before.events) / (stats.fsyncs - before.fsyncs),
          'events/fsync',
          { detail: { ...stats } },
        ),
        row(
          'file store: appends per group commit (all rounds)',
          (stats.appends - before.appends) / (stats.batches - before.batches),
          'appends/batch',
        ),
      ];
    } finally {
      await local.close();
      await removeDir(dir);
    }
  },

  /** 1b. The file store alone: appends shaped like steps (3 events), no engine. The fsync floor. */
  async 'file-store'() {
    const code = await loadWorkflowCode({ workflowsPath: WORKFLOWS, activitiesPath: ACTIVITIES });
    const memory = new MemoryHistoryStore();
    const engine = new WorkflowEngine({ store: memory, code, activities });
    await execute(engine, 'steps', 'source', [300]);
    const history = await memory.readHistory((await memory.latestRun('source')) ?? {});
    await engine.shutdown();
    // history: [started, scheduled, (started, completed, scheduled) x 299, started, completed, closed]
    const appendsOf = (workflowId, runId, count) => {
      const appends = [[{ ...history[0], workflowId, runId }, history[1]]];
      for (let i = 0; i < count; i++) appends.push(history.slice(2 + i * 3, 5 + i * 3));
      return appends;
    };
    const dir = await tempDir('store');
    const store = await FileHistoryStore.open(dir);
    try {
      const serial = appendsOf('serial', 'r1', 299);
      const start0 = now();
      for (const events of serial) await store.append({ workflowId: 'serial', runId: 'r1' }, events);
      const serialMs = now() - start0;
      const runs = Array.from({ length: 100 }, (_, i) => ({
        key: { workflowId: `c-${i}`, runId: 'r1' },
        appends: appendsOf(`c-${i}`, 'r1', 50),
      }));
      const before = store.stats();
      const start1 = now();
      await Promise.all(
        runs.map(async ({ key, appends }) => {
          for (const events of appends) await store.append(key, events);
        }),
      );
      const concurrentMs = now() - start1;
      const stats = store.stats();
      const appends = stats.appends - before.appends;
      return [
        row(
          'file store alone: one run, 3-event appends one after another',
          serialMs / serial.length,
          'ms/append',
          {
            peers: [PEERS.fdatasync],
          },
        ),
        row('file store alone: 100 runs appending at once', appends / (concurrentMs / 1000), 'appends/s', {
          detail: { appends, batches: stats.batches - before.batches, fsyncs: stats.fsyncs - before.fsyncs },
        }),
      ];
    } finally {
      await store.close();
      await removeDir(dir);
    }
  },

  /** 2. The same on the memory store: the engine's own overhead, no I/O. */
  async 'memory-steps'() {
    return memorySteps('memory store', {});
  },

  /**
   * 2b. The memory store with no deadlock timeout (activationTimeoutMs: 0): what the timeout costs. With
   * the workflow thread it costs a timer per asynchronous call and nothing per synchronous one.
   */
  async 'memory-steps-no-watchdog'() {
    return memorySteps('memory store, no deadlock timeout', { activationTimeoutMs: 0 });
  },

  /** 3. Bundling, sandbox creation, and replay of a ~10,000-event history. */
  async replay() {
    const bundleMs = await medianMs(3, () =>
      bundleWorkflows({ workflowsPath: WORKFLOWS, activitiesPath: ACTIVITIES }),
    );
    const bundle = await bundleWorkflows({ workflowsPath: WORKFLOWS, activitiesPath: ACTIVITIES });
    WorkflowSandbox.create(bundle);
    const sandboxMs = await medianMs(20, () => WorkflowSandbox.create(bundle));

    // Record: 3,333 activities = 1 start + 3 events per step + 1 completion = 10,001 events.
    const code = workflowCodeFromBundle(bundle);
    const store = new MemoryHistoryStore();
    const engine = new WorkflowEngine({ store, code, activities });
    const start = now();
    await execute(engine, 'steps', 'replay-source', [3333]);
    const recordMs = now() - start;
    const history = await store.readHistory((await store.latestRun('replay-source')) ?? {});
    await engine.shutdown();

    const options = { sandbox: code.sandbox, resolveCallSite: code.resolveCallSite };
    RunExecutor.replay(history, options); // warm-up
    const replayOnce = (opts) => {
      const { executor } = RunExecutor.replay(history, opts);
      if (executor.status !== 'COMPLETED') throw new Error(`replay ended ${executor.status}`);
    };
    const replayMs = await medianMs(3, () => replayOnce(options));
    const unguarded = workflowCodeFromBundle(bundle, { activationTimeoutMs: 0 });
    const unguardedOptions = { sandbox: unguarded.sandbox, resolveCallSite: unguarded.resolveCallSite };
    replayOnce(unguardedOptions);
    const unguardedMs = await medianMs(3, () => replayOnce(unguardedOptions));

    // What `wf replay` does before replaying: decode the JSON Lines file (CRC-checked lines).
    const text = serializeHistoryJsonl(history);
    const decodeMs = await medianMs(3, () => parseHistoryJsonl(text, 'bench.jsonl'));

    return [
      row('bundleWorkflows (esbuild, fixture)', bundleMs, 'ms', { peers: [PEERS.temporalBundle] }),
      row('bundle size', bundle.code.length / 1024, 'KB'),
      row('WorkflowSandbox.create (context + bundle eval)', sandboxMs, 'ms', {
        peers: [PEERS.contextAndBundle],
      }),
      row('record 3,333-step history (memory store)', history.length / (recordMs / 1000), 'events/s', {
        detail: { events: history.length, ms: recordMs },
      }),
      row(`RunExecutor.replay of ${history.length} events`, history.length / (replayMs / 1000), 'events/s', {
        id: 'replay',
        peers: [PEERS.temporalReplay],
        detail: { ms: replayMs },
      }),
      row(
        `RunExecutor.replay of ${history.length} events, no deadlock timeout`,
        history.length / (unguardedMs / 1000),
        'events/s',
        { peers: [PEERS.temporalReplay], detail: { ms: unguardedMs } },
      ),
      row(
        `parseHistoryJsonl of ${history.length} events (${(text.length / 1024 / 1024).toFixed(1)} MB)`,
        history.length / (decodeMs / 1000),
        'events/s',
        { detail: { ms: decodeMs } },
      ),
    ];
  },

  /** 4. Starting runs, and the memory a waiting run holds. */
  async starts() {
    const code = await loadWorkflowCode({ workflowsPath: WORKFLOWS, activitiesPath: ACTIVITIES });
    const engine = new WorkflowEngine({ store: new MemoryHistoryStore(), code, activities });
    for (let i = 0; i < 50; i++) await execute(engine, 'empty', `warm-${i}`);
    const N = 1000;
    const sequential = async (prefix) => {
      const begin = now();
      for (let i = 0; i < N; i++)
        await engine.startWorkflow({ workflowType: 'empty', workflowId: `${prefix}-${i}` });
      return now() - begin;
    };
    // The first thousand pay for optimising both threads' code; a server's steady state is what
    // counts (as for the step figures), after two thousand more.
    const coldMs = await sequential('cold');
    await sequential('warm-a');
    await sequential('warm-b');
    const seqMs = await sequential('seq');
    const start = now();
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        engine.startWorkflow({ workflowType: 'empty', workflowId: `par-${i}` }),
      ),
    );
    const parMs = now() - start;
    await engine.shutdown();
    return [
      row(
        'start 1,000 empty runs, one after another (memory store, steady state)',
        N / (seqMs / 1000),
        'runs/s',
        {
          id: 'starts',
          peers: [PEERS.contextPerRunStarts],
          detail: { how: 'after 50 empty runs and 3,000 starts to warm up' },
        },
      ),
      row(
        'same, the first 1,000 after 50 empty runs (code not yet optimised)',
        N / (coldMs / 1000),
        'runs/s',
        {
          peers: [PEERS.contextPerRunStarts],
        },
      ),
      row('start 1,000 empty runs at once (memory store)', N / (parMs / 1000), 'runs/s', {
        peers: [PEERS.contextPerRunStarts],
      }),
    ];
  },

  /** 4b. Heap per run waiting in condition(), cached (default cache) and with a cache of 10 runs. */
  async heap() {
    const code = await loadWorkflowCode({ workflowsPath: WORKFLOWS, activitiesPath: ACTIVITIES });
    const N = QUICK ? 500 : 1000;
    const measure = async (label, maxCachedRuns) => {
      const store = new MemoryHistoryStore();
      const engine = new WorkflowEngine({ store, code, activities, maxCachedRuns });
      await engine.startWorkflow({ workflowType: 'waiter', workflowId: `${label}-warm` });
      await engine.signal({ workflowId: `${label}-warm` }, 'release', []);
      await engine.result({ workflowId: `${label}-warm` });
      // N runs started, then one signal each (no handler: buffered by the workflow), work that goes
      // through the mailbox, after which the engine evicts past its cache size.
      const round = async (name) => {
        for (let i = 0; i < N; i++) {
          await engine.startWorkflow({ workflowType: 'waiter', workflowId: `${name}-${i}` });
        }
        const started = await heapUsed();
        const signalStart = now();
        for (let i = 0; i < N; i++) await engine.signal({ workflowId: `${name}-${i}` }, 'ping', []);
        return { started, signalMs: (now() - signalStart) / N, afterWork: await heapUsed() };
      };
      // A server's steady state: the first round also leaves the code V8 optimises for it, which
      // is no run's memory (the first round's figure is in the rows).
      const start = await heapUsed();
      const first = await round(`${label}-first`);
      const before = first.afterWork;
      const { started: after, signalMs, afterWork } = await round(label);
      // Release them all, to check the runs were alive and well.
      for (const name of [`${label}-first`, label]) {
        await Promise.all(
          Array.from({ length: N }, (_, i) => engine.signal({ workflowId: `${name}-${i}` }, 'release', [])),
        );
        const outcome = await engine.result({ workflowId: `${name}-${N - 1}` });
        if (outcome.status !== 'COMPLETED') throw new Error(`waiter closed as ${outcome.status}`);
      }
      await engine.shutdown();
      return {
        started: (after - before) / N / 1024,
        afterWork: (afterWork - before) / N / 1024,
        firstRound: (first.afterWork - start) / N / 1024,
        signalMs,
      };
    };
    const cached = await measure('cached', 2 * N + 10);
    const small = await measure('evicting', 10);
    return [
      row('heap per cached run waiting in condition()', cached.started, 'KB/run', {
        id: 'mem-cached',
        peers: [PEERS.cachedBudget],
        detail: { runs: N, note: 'includes its 1-event history in the memory store' },
      }),
      row('same, after one signal each', cached.afterWork, 'KB/run', { peers: [PEERS.cachedBudget] }),
      row('heap per waiting run, maxCachedRuns 10, just started', small.started, 'KB/run', {
        peers: [PEERS.evictedBudget],
        detail: { note: 'eviction runs only after mailbox work: runs that only started stay cached' },
      }),
      row(`signal to a cached waiting run (${N} runs, one after another)`, cached.signalMs, 'ms/signal'),
      row('signal to an evicted waiting run (replay + eviction scan)', small.signalMs, 'ms/signal'),
      row('heap per waiting run, maxCachedRuns 10, after one signal each', small.afterWork, 'KB/run', {
        id: 'mem-evicted',
        peers: [PEERS.evictedBudget],
        detail: { note: 'includes the 2-3 event history each run keeps in the memory store' },
      }),
      row('same, over the first round (code optimised for it included)', small.firstRound, 'KB/run'),
    ];
  },
};
