// The PostgreSQL store's benchmark case: appends per second and owned-append latency, no engine.
// Runs against WF_BENCH_DATABASE_URL (or WF_TEST_DATABASE_URL, or the machine's PostgreSQL on
// 127.0.0.1:5432, database test) in a schema of its own, dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { MemoryHistoryStore } from '../dist/history/memory-store.js';
import { PostgresHistoryStore } from '../dist/history/postgres-store.js';
import { WorkflowEngine } from '../dist/runtime/engine/index.js';
import { loadWorkflowCode } from '../dist/runtime/workflow-code.js';
import {
  ACTIVITIES,
  activities,
  BENCH_DATABASE_URL,
  execute,
  median,
  now,
  PEERS,
  percentile,
  row,
  WORKFLOWS,
} from './lib.js';

const URL = BENCH_DATABASE_URL;

const SERIAL_APPENDS = 299;
const CONCURRENT_RUNS = 100;
const APPENDS_PER_RUN = 50;

/** A real 300-step history, cut into step-shaped appends (3 events each) for any run. */
async function stepAppends() {
  const code = await loadWorkflowCode({ workflowsPath: WORKFLOWS, activitiesPath: ACTIVITIES });
  const memory = new MemoryHistoryStore();
  const engine = new WorkflowEngine({ store: memory, code, activities });
  await execute(engine, 'steps', 'source', [300]);
  const history = await memory.readHistory((await memory.latestRun('source')) ?? {});
  await engine.shutdown();
  return (workflowId, runId, count) => {
    const appends = [[{ ...history[0], workflowId, runId, firstRunId: runId }, history[1]]];
    for (let i = 0; i < count; i++) appends.push(history.slice(2 + i * 3, 5 + i * 3));
    return appends;
  };
}

export async function postgresStoreCase() {
  const schema = `wf_bench_${randomBytes(4).toString('hex')}`;
  let store;
  try {
    store = await PostgresHistoryStore.open({ url: URL, schema, migrate: true, poolSize: 10 });
  } catch (error) {
    console.error(
      `postgres-store: skipped, no PostgreSQL at ${URL} (${error.message}); set WF_BENCH_DATABASE_URL`,
    );
    return [];
  }
  try {
    const appendsOf = await stepAppends();

    // Warm-up (connections, JIT), not measured.
    const warm = appendsOf('warm', 'r1', 30);
    for (const events of warm) await store.append({ workflowId: 'warm', runId: 'r1' }, events);

    // Plain appends (position check only), one after another.
    const plain = appendsOf('plain', 'r1', SERIAL_APPENDS);
    await store.append({ workflowId: 'plain', runId: 'r1' }, plain[0]);
    const t0 = now();
    for (const events of plain.slice(1)) await store.append({ workflowId: 'plain', runId: 'r1' }, events);
    const plainMs = (now() - t0) / (plain.length - 1);

    // Owned appends at concurrency 1: each one a transaction checking owner, epoch and position.
    const owned = appendsOf('owned', 'r1', SERIAL_APPENDS);
    const lease = await store.createRun({ workflowId: 'owned', runId: 'r1' }, owned[0], {
      owner: 'bench',
      leaseMs: 600_000,
    });
    const before = store.stats();
    const latencies = [];
    for (const events of owned.slice(1)) {
      const start = now();
      const result = await store.appendAsOwner(lease, events, { wakeAt: null });
      latencies.push(now() - start);
      if (!result.ok) throw new Error(`owned append refused: ${JSON.stringify(result)}`);
    }
    const after = store.stats();
    const ownedAppends = owned.length - 1;

    // Many runs appending at once through one pool of 10 connections.
    const runs = await Promise.all(
      Array.from({ length: CONCURRENT_RUNS }, async (_, i) => {
        const appends = appendsOf(`c-${i}`, 'r1', APPENDS_PER_RUN);
        const runLease = await store.createRun({ workflowId: `c-${i}`, runId: 'r1' }, appends[0], {
          owner: 'bench',
          leaseMs: 600_000,
        });
        return { runLease, appends: appends.slice(1) };
      }),
    );
    const t1 = now();
    await Promise.all(
      runs.map(async ({ runLease, appends }) => {
        for (const events of appends) {
          const result = await store.appendAsOwner(runLease, events);
          if (!result.ok) throw new Error(`owned append refused: ${JSON.stringify(result)}`);
        }
      }),
    );
    const concurrentS = (now() - t1) / 1000;
    const concurrentAppends = CONCURRENT_RUNS * APPENDS_PER_RUN;

    return [
      row('postgres: plain append, one run, 3 events, one after another (mean)', plainMs, 'ms/append'),
      row('postgres: appendAsOwner at concurrency 1 (median)', median(latencies), 'ms/append', {
        peers: [PEERS.dbosStep],
        detail: { p99: percentile(latencies, 99), appends: ownedAppends },
      }),
      row(
        'postgres: commits per owned append',
        (after.commits - before.commits) / ownedAppends,
        'commits/append',
        { detail: { statementsPerAppend: (after.statements - before.statements) / ownedAppends } },
      ),
      row(
        `postgres: ${CONCURRENT_RUNS} runs appendAsOwner at once (pool of 10)`,
        concurrentAppends / concurrentS,
        'appends/s',
        {
          detail: { appends: concurrentAppends, seconds: concurrentS },
        },
      ),
    ];
  } finally {
    await store.close();
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}
