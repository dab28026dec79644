// The cases that drive a real `wf dev` (the spawned binary, `node bin/run.js dev`) as a user's
// application would: through the HTTP API with wfkit/client (dist/client). Each works on a throwaway
// copy of bench/fixtures/steps, whose store is the usual `.wf` directory of the project.
//
//   dev-http      10-step workflows at concurrency 1 (ms per workflow) and 32 (steps/s)
//   dev-reload    file saved -> first new run that returns the new code's result
//   dev-restart   N open runs in the store -> the server answers /health, and all N resumed
//   dev-startup   start-up with an empty store and with N closed runs in it
//
// WF_BENCH_QUICK=1 (`--quick`) uses smaller N; the rows say which N they used.
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from '../dist/client/connect.js';
import { openLocalEngine } from '../dist/devserver/local-engine.js';
import { FileHistoryStore } from '../dist/history/file-store.js';
import { MemoryHistoryStore } from '../dist/history/memory-store.js';
import { nodeFileSystem } from '../dist/history/store-fs.js';
import { WorkflowEngine } from '../dist/runtime/engine/index.js';
import { loadWorkflowCode } from '../dist/runtime/workflow-code.js';
import {
  ACTIVITIES,
  activities,
  driveSteps,
  execute,
  FIXTURE,
  median,
  now,
  percentile,
  removeDir,
  row,
  tempDir,
  WORKFLOWS,
} from './lib.js';
import { spawnWf } from './spawn.js';

const QUICK = process.env.WF_BENCH_QUICK === '1';
const STEPS = 10;
export const DEV_SIZES = QUICK
  ? { serial: 30, warmup: 32, concurrent: 320, reloads: 3, openRuns: 1000, closedRuns: 2000, startups: 2 }
  : {
      serial: 200,
      warmup: 64,
      concurrent: 1600,
      reloads: 5,
      openRuns: 10_000,
      closedRuns: 100_000,
      startups: 3,
    };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A throwaway copy of the fixture project (its sources and package.json; no store yet). */
export async function copyFixture() {
  const dir = await tempDir('dev');
  await cp(join(FIXTURE, 'src'), join(dir, 'src'), { recursive: true });
  await cp(join(FIXTURE, 'package.json'), join(dir, 'package.json'));
  return dir;
}

/** The project config `wf dev` builds for the copy (what openLocalEngine needs in-process). */
function configOf(dir) {
  return {
    root: dir,
    workflowsPath: join(dir, 'src', 'workflows', 'index.ts'),
    activitiesPath: join(dir, 'src', 'activities', 'index.ts'),
    storeDir: join(dir, '.wf'),
    port: 0,
  };
}

/**
 * node:fs with fdatasync and fsync made no-ops: only to seed a store quickly before a measurement
 * (the files are complete in the page cache; what is measured afterwards reads them back).
 */
export const unsyncedFs = {
  ...nodeFileSystem,
  async open(...args) {
    const handle = await nodeFileSystem.open(...args);
    return new Proxy(handle, {
      get(target, prop) {
        if (prop === 'datasync' || prop === 'sync') return async () => {};
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  },
};

/**
 * Seeds N real closed histories (an `empty()` run each, `closed-<i>`) into the store of the project
 * in `dir`, appended through the file store with its syncs skipped. `spaced`: each run starts one
 * second after the one before (a list shows them newest first in the reverse seeding order).
 */
export async function seedClosedRuns(dir, n, { spaced = false } = {}) {
  const code = await loadWorkflowCode({ workflowsPath: WORKFLOWS, activitiesPath: ACTIVITIES });
  const memory = new MemoryHistoryStore();
  const engine = new WorkflowEngine({ store: memory, code, activities });
  await execute(engine, 'empty', 'source');
  const history = await memory.readHistory((await memory.latestRun('source')) ?? {});
  await engine.shutdown();
  const store = await FileHistoryStore.open(join(dir, '.wf'), { fs: unsyncedFs });
  const base = Date.parse(history[0].eventTime);
  const t0 = base - n * 1000;
  await pool(n, 256, async (i) => {
    const workflowId = `closed-${i}`;
    const runId = `r${i}`;
    const at = (e) => new Date(t0 + i * 1000 + Date.parse(e.eventTime) - base).toISOString();
    await store.append(
      { workflowId, runId },
      history.map((e, j) => ({
        ...e,
        ...(j === 0 ? { workflowId, runId } : {}),
        ...(spaced ? { eventTime: at(e) } : {}),
      })),
    );
  });
  await store.close();
}

/**
 * Spawns `wf dev --plain` on `dir` and notes, from the moment of the spawn, when the HTTP API first
 * answers `GET /api/v1/health` and when each awaited output line appeared.
 */
export function startDev(dir) {
  return spawnWf({
    args: ['dev', '--project', dir, '--plain'],
    cwd: dir,
    env: { NODE_ENV: 'development' },
  });
}

/** Runs `fn(i)` for i in 0..count-1, `concurrency` at a time. */
export async function pool(count, concurrency, fn) {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) await fn(i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

export const devCases = {
  /** 10-step workflows through `wf dev`'s HTTP API with wfkit/client, at concurrency 1 and 32. */
  async 'dev-http'() {
    const dir = await copyFixture();
    const dev = await startDev(dir);
    const client = connect({ address: dev.url });
    try {
      await dev.line(/^Press Ctrl\+C to stop/);
      await driveSteps([client], 'warm-1', 10, 1);
      const serial = await driveSteps([client], 'c1', DEV_SIZES.serial, 1);
      await driveSteps([client], 'warm-32', DEV_SIZES.warmup, 32);
      const wide = await driveSteps([client], 'c32', DEV_SIZES.concurrent, 32);
      const serialMedian = median(serial.latencies);
      return [
        row(
          `wf dev over HTTP (wfkit/client): ${STEPS}-step workflow, concurrency 1 (median of ${DEV_SIZES.serial})`,
          serialMedian,
          'ms',
          {
            id: 'http-c1',
            detail: {
              workflows: DEV_SIZES.serial,
              p99Ms: percentile(serial.latencies, 99),
              meanMsPerStep: serial.ms / (DEV_SIZES.serial * STEPS),
            },
          },
        ),
        row('same, per step (median workflow / 10)', serialMedian / STEPS, 'ms/step'),
        row(
          `wf dev over HTTP (wfkit/client): ${STEPS}-step workflows, concurrency 32 (${DEV_SIZES.concurrent} workflows)`,
          (DEV_SIZES.concurrent * STEPS) / (wide.ms / 1000),
          'steps/s',
          {
            id: 'http-c32',
            detail: {
              workflows: DEV_SIZES.concurrent,
              seconds: wide.ms / 1000,
              workflowMsMedian: median(wide.latencies),
              workflowMsP99: percentile(wide.latencies, 99),
            },
          },
        ),
      ];
    } finally {
      await client.close();
      await dev.stop();
      await removeDir(dir);
    }
  },

  /** Hot reload: the workflows file saved -> the first new run that returns the new code's result. */
  async 'dev-reload'() {
    const dir = await copyFixture();
    const dev = await startDev(dir);
    const client = connect({ address: dev.url });
    const file = join(dir, 'src', 'workflows', 'index.ts');
    try {
      await dev.line(/^Press Ctrl\+C to stop/);
      let n = 0;
      const version = () => client.execute('version', { workflowId: `v-${n++}` });
      if ((await version()) !== 'v0') throw new Error('the fixture workflow version() should return v0');
      // Let the watcher settle after start-up (issue 9: an edit saved while wf dev starts can be lost).
      await sleep(500);
      const times = [];
      let source = await readFile(file, 'utf8');
      for (let k = 1; k <= DEV_SIZES.reloads; k++) {
        const next = source.replace(/return 'v\d+';/, `return 'v${k}';`);
        if (next === source) throw new Error('version() not found in the fixture workflows');
        const saved = now();
        await writeFile(file, next);
        source = next;
        for (;;) {
          if ((await version()) === `v${k}`) break;
          if (now() - saved > 30_000)
            throw new Error(`v${k} not served 30 s after the save:\n${dev.output()}`);
        }
        times.push(now() - saved);
        await sleep(300);
      }
      return [
        row(
          `hot reload: workflows file saved -> new runs run the new code (median of ${times.length})`,
          median(times),
          'ms',
          {
            id: 'hot-reload',
            detail: {
              times,
              how: 'writeFile, then version() started and awaited over HTTP in a loop until it returns the new string',
            },
          },
        ),
      ];
    } finally {
      await client.close();
      await dev.stop();
      await removeDir(dir);
    }
  },

  /** Restart with N open runs (waiting in condition()): time to answer, time until all resumed. */
  async 'dev-restart'() {
    const dir = await copyFixture();
    const N = DEV_SIZES.openRuns;
    try {
      // Seed: N waiting runs written by the engine of wf dev itself (in-process, syncs skipped).
      const seedStart = now();
      const local = await openLocalEngine(configOf(dir), { storeFs: unsyncedFs, logger: quietLogger });
      await pool(N, 64, (i) =>
        local.engine.startWorkflow({ workflowType: 'waiter', workflowId: `open-${i}` }),
      );
      await local.close();
      const seedMs = now() - seedStart;

      const dev = await startDev(dir);
      try {
        const answerMs = await dev.healthy();
        const recovered = await dev.line(/^\s*(recovered|claimed):/);
        const resumed = Number(/(\d+) open run/.exec(recovered.line)?.[1]);
        if (resumed !== N) throw new Error(`expected ${N} runs resumed, wf dev said: ${recovered.line}`);
        // The runs are alive: release one and wait for its result.
        const client = connect({ address: dev.url });
        try {
          await client.getHandle(`open-${N - 1}`).signal('release');
          const result = await client.getHandle(`open-${N - 1}`).result();
          if (result !== 'released') throw new Error(`open-${N - 1} returned ${result}`);
        } finally {
          await client.close();
        }
        const detail = {
          openRuns: N,
          seedSeconds: seedMs / 1000,
          how: 'ms from spawning `wf dev` until GET /api/v1/health answers; until its "recovered: N open run(s) resumed" line',
        };
        return [
          row(`restart with ${N.toLocaleString('en-US')} open runs: server answers`, answerMs / 1000, 's', {
            id: 'restart-answer',
            n: N,
            detail,
          }),
          row(`restart with ${N.toLocaleString('en-US')} open runs: all resumed`, recovered.ms / 1000, 's', {
            id: 'restart-resumed',
            n: N,
            detail,
          }),
        ];
      } finally {
        await dev.stop();
      }
    } finally {
      await removeDir(dir);
    }
  },

  /** Start-up of `wf dev` with an empty store, then with N closed runs in it. */
  async 'dev-startup'() {
    const N = DEV_SIZES.closedRuns;
    const empty = await copyFixture();
    const full = await copyFixture();
    try {
      const startup = async (dir) => {
        // Median of 3 (2 in --quick), or 1 when a start-up takes over 5 s (a slow start-up is plain in one).
        const times = [];
        while (times.length < DEV_SIZES.startups && !(times.length === 1 && times[0] > 5000)) {
          const dev = await startDev(dir);
          try {
            times.push(await dev.healthy());
          } finally {
            await dev.stop();
          }
        }
        return { ms: median(times), times };
      };
      const { ms: emptyMs } = await startup(empty);

      const seedStart = now();
      await seedClosedRuns(full, N);
      const seedMs = now() - seedStart;
      const { ms: fullMs, times } = await startup(full);
      return [
        row(
          `start-up of wf dev, empty store (spawn -> /health answers; median of ${DEV_SIZES.startups})`,
          emptyMs,
          'ms',
          {
            id: 'startup-empty',
          },
        ),
        row(
          `start-up of wf dev with ${N.toLocaleString('en-US')} closed runs (median of ${times.length})`,
          fullMs,
          'ms',
          {
            id: 'startup-closed',
            n: N,
            detail: { closedRuns: N, times, emptyStoreMs: emptyMs, seedSeconds: seedMs / 1000 },
          },
        ),
      ];
    } finally {
      await removeDir(empty);
      await removeDir(full);
    }
  },
};

const quietLogger = { info() {}, warn() {}, error: (m) => console.error(m) };
