// Shared helpers for the benchmark cases. Everything imports the built code in ../dist/.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(BENCH_DIR, '..');
export const FIXTURE = join(BENCH_DIR, 'fixtures', 'steps');
export const WORKFLOWS = join(FIXTURE, 'src', 'workflows', 'index.ts');
export const ACTIVITIES = join(FIXTURE, 'src', 'activities', 'index.ts');

/** The PostgreSQL the database cases use. */
export const BENCH_DATABASE_URL =
  process.env.WF_BENCH_DATABASE_URL ??
  process.env.WF_TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';

/** The trivial activity of the fixture, in-process (what the memory-store cases run). */
export const activities = {
  async noop(i) {
    globalThis.__wfBenchStepTimes?.push(performance.now());
    return i;
  },
};

/** Peer and reference numbers from /work/shared/DESIGN.md, "Costs measured on this machine". */
export const PEERS = {
  restateStep: { value: 1.5, unit: 'ms', who: 'Restate' },
  dbosStep: { value: 1.9, unit: 'ms', who: 'DBOS (PostgreSQL)' },
  /** Issue 8's figures for DBOS on PostgreSQL, measured on this machine. */
  dbosStepIssue: { value: 1.86, unit: 'ms', who: 'DBOS (PostgreSQL), concurrency 1' },
  dbosThroughput: { value: 777, unit: 'steps/s', who: 'DBOS (PostgreSQL), concurrency 32' },
  temporalReplay: { value: 1500, unit: 'events/s', who: 'Temporal replayer' },
  temporalBundle: { value: 2300, unit: 'ms', who: 'Temporal webpack' },
  fdatasync: { value: 0.14, unit: 'ms', who: 'fdatasync 200 B (median)' },
  contextAndBundle: { value: 4, unit: 'ms', who: 'fresh vm context + 58 KB bundle' },
  contextPerRunStarts: { value: 250, unit: 'runs/s', who: 'one fresh vm context per run' },
  cachedBudget: { value: 100, unit: 'KB', who: 'design budget, cached run' },
  evictedBudget: { value: 10, unit: 'KB', who: 'design budget, evicted run' },
};

export const now = () => performance.now();

export async function tempDir(prefix) {
  return mkdtemp(join(tmpdir(), `wf-bench-${prefix}-`));
}

export async function removeDir(dir) {
  await rm(dir, { recursive: true, force: true });
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The value at percentile `p` (0 to 100) of `values`, nearest rank. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `fn` `times` times and returns the median duration in ms. */
export async function medianMs(times, fn) {
  const durations = [];
  for (let i = 0; i < times; i++) {
    const start = now();
    await fn(i);
    durations.push(now() - start);
  }
  return median(durations);
}

export function gc() {
  if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
  for (let i = 0; i < 4; i++) globalThis.gc();
}

/** Starts `workflowType` and waits for its result; throws unless it completed. */
export async function execute(engine, workflowType, workflowId, args = []) {
  await engine.startWorkflow({ workflowType, workflowId, args });
  const outcome = await engine.result({ workflowId });
  if (outcome.status !== 'COMPLETED') {
    throw new Error(`${workflowId} closed as ${outcome.status}: ${JSON.stringify(outcome)}`);
  }
  return outcome.result;
}

/** One result row. */
export function row(name, value, unit, extra = {}) {
  return { name, value, unit, ...extra };
}

/**
 * Runs `count` steps(`steps`) workflows of the fixture through wfkit/client, `concurrency` at a time,
 * round robin over `clients`; throws on a wrong result. Returns the wall time and each latency (ms).
 */
export async function driveSteps(clients, prefix, count, concurrency, steps = 10) {
  const expected = (steps * (steps - 1)) / 2;
  let next = 0;
  const latencies = [];
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const client = clients[i % clients.length];
      const start = now();
      const result = await client.execute('steps', { workflowId: `${prefix}-${i}`, args: [steps] });
      latencies.push(now() - start);
      if (result !== expected) throw new Error(`${prefix}-${i} returned ${result}, expected ${expected}`);
    }
  };
  const start = now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { ms: now() - start, latencies };
}
