// The `serve-steps` case: real `wf serve` processes (1, 2 and 4) on one PostgreSQL, driven over HTTP
// by wfkit/client as an application drives them. Reports steps/s at concurrency 32 with the CPU each
// process used, step latency at concurrency 1, and commits per step.
//
// Runs in a database of its own (CREATE DATABASE, dropped afterwards) so that pg_stat_database counts
// only these servers' commits; where the user may not create databases it falls back to a fresh schema
// in the given database and says that the commit count then includes other clients'. Database:
// WF_BENCH_DATABASE_URL (or WF_TEST_DATABASE_URL, or 127.0.0.1:5432/test). WF_BENCH_QUICK=1 (`--quick`)
// runs fewer workflows.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import { connect } from '../dist/client/connect.js';
import { BENCH_DATABASE_URL, driveSteps, FIXTURE, median, now, PEERS, percentile, ROOT, row } from './lib.js';
import { BIN, spawnWf } from './spawn.js';

const QUICK = process.env.WF_BENCH_QUICK === '1';
const SIZES = QUICK
  ? { serial: 20, longSteps: 100, warmup: 32, concurrent: 160 }
  : { serial: 100, longSteps: 300, warmup: 64, concurrent: 640 };
const SERVER_COUNTS = [1, 2, 4];
const CONCURRENCY = 32;
const STEPS = 10;
const LEASE = '10s';
const SCHEMA = `wf_bench_${randomBytes(4).toString('hex')}`;
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

function withDatabase(url, database) {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The URL with `application_name` set, so this server's connections can be found in pg_stat_activity. */
function withApplicationName(url, name) {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
}

/** CPU seconds (user + system) a process has used so far, from /proc; undefined when it is gone or elsewhere. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ": state is field 3, utime field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat. */
function machineTicks() {
  try {
    const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const n = values.map(Number);
    const total = n.reduce((a, b) => a + b, 0);
    const idle = n[3] + (n[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Starts one `wf serve` on the fixture and waits until it has claimed its due runs. */
async function startServer(url, name) {
  const server = await spawnWf({
    args: [
      'serve',
      ...['--project', FIXTURE, '--store', withApplicationName(url, name), '--schema', SCHEMA],
      ...['--lease', LEASE, '--log-format', 'json'],
    ],
    cwd: FIXTURE,
    env: { NODE_ENV: 'production' },
    name,
    keepOutput: 20_000,
    killAfterMs: 15_000,
  });
  try {
    await server.line(/claimed:/, 60_000);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

async function query(client, text, values) {
  return (await client.query(text, values)).rows;
}

/** Commits the database has counted (flushed by backends when idle, at most once a second, and on exit). */
async function commits(monitor) {
  const [r] = await query(
    monitor,
    'SELECT xact_commit::bigint AS n FROM pg_stat_database WHERE datname = current_database()',
  );
  return Number(r.n);
}

/** How many transactions wrote the events of the runs whose workflow ID starts with `prefix`. */
async function eventCommits(monitor, prefix) {
  const [r] = await query(
    monitor,
    `SELECT count(DISTINCT e.xmin::text)::int AS n FROM "${SCHEMA}".events e JOIN "${SCHEMA}".runs r ON r.id = e.run
     WHERE starts_with(r.workflow_id, $1)`,
    [prefix],
  );
  return r.n;
}

/** Waits until the servers' backends are gone (a backend flushes its statistics when it exits). */
async function backendsGone(monitor, names) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const rows = await query(
      monitor,
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ANY($1)',
      [names],
    );
    if (rows[0].n === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`backends of ${names.join(', ')} still connected 15 s after the servers stopped`);
}

async function backendPids(monitor, names) {
  const rows = await query(
    monitor,
    'SELECT pid, application_name AS name FROM pg_stat_activity WHERE application_name = ANY($1)',
    [names],
  );
  return rows;
}

/** CPU used by each server process and by each one's PostgreSQL backends, the driver, and the machine. */
function cpuSnapshot(servers, backends) {
  return {
    at: now(),
    servers: servers.map((s) => cpuSeconds(s.pid)),
    backends: new Map(backends.map((b) => [b.pid, { name: b.name, cpu: cpuSeconds(b.pid) }])),
    driver: process.cpuUsage(),
    machine: machineTicks(),
    load: loadavg()[0],
  };
}

function cpuReport(servers, before, after) {
  const seconds = (after.at - before.at) / 1000;
  const pct = (cpu) => (cpu / seconds) * 100;
  const perServer = servers.map((_, i) =>
    before.servers[i] === undefined || after.servers[i] === undefined
      ? null
      : pct(after.servers[i] - before.servers[i]),
  );
  // Backends opened during the window count from zero; those of other clients are not looked at.
  let databaseCpu = 0;
  let databaseSeen = false;
  const perServerDatabase = servers.map(() => 0);
  for (const [pid, { name, cpu: end }] of after.backends) {
    if (end === undefined) continue;
    databaseSeen = true;
    const start = before.backends.get(pid)?.cpu ?? 0;
    databaseCpu += end - start;
    const index = servers.findIndex((s) => s.name === name);
    if (index >= 0) perServerDatabase[index] += end - start;
  }
  const driverCpu =
    (after.driver.user - before.driver.user + after.driver.system - before.driver.system) / 1e6;
  const machine =
    before.machine && after.machine
      ? ((after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total)) * 100
      : null;
  return {
    windowSeconds: seconds,
    serverProcessPct: perServer,
    databaseBackendsPct: databaseSeen ? pct(databaseCpu) : null,
    databaseBackendsPerServerPct: databaseSeen ? perServerDatabase.map(pct) : null,
    driverPct: pct(driverCpu),
    machineBusyPctOfAllCores: machine,
    loadAverage1m: { before: before.load, after: after.load },
  };
}

/** Opens the database to run in: a new one, or (without CREATEDB) the given one. */
async function openDatabase() {
  const admin = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await admin.connect();
  const database = `wf_bench_${randomBytes(4).toString('hex')}`;
  try {
    await admin.query(`CREATE DATABASE "${database}"`);
    return {
      url: withDatabase(BENCH_DATABASE_URL, database),
      isolated: true,
      async drop() {
        await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
        await admin.end();
      },
    };
  } catch (error) {
    console.error(
      `serve-steps: cannot create a database (${error.message}); running in a schema of the given database, where other clients' commits are counted too`,
    );
    return {
      url: BENCH_DATABASE_URL,
      isolated: false,
      async drop() {
        await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
        await admin.end();
      },
    };
  }
}

export async function serveCase() {
  let database;
  try {
    database = await openDatabase();
  } catch (error) {
    console.error(
      `serve-steps: skipped, no PostgreSQL at ${BENCH_DATABASE_URL} (${error.message}); set WF_BENCH_DATABASE_URL`,
    );
    return [];
  }
  const tag = randomBytes(3).toString('hex');
  const monitor = new pg.Client({
    connectionString: withApplicationName(database.url, `wfbench-monitor-${tag}`),
  });
  const rows = [];
  let servers = [];
  try {
    // As an operator would: migrate once, then start the servers without --migrate.
    const migrated = spawnSync(
      process.execPath,
      [BIN, 'db', 'migrate', '--store', database.url, '--schema', SCHEMA],
      { cwd: ROOT, encoding: 'utf8' },
    );
    if (migrated.status !== 0) throw new Error(`wf db migrate failed: ${migrated.stderr}${migrated.stdout}`);
    await monitor.connect();

    for (const count of SERVER_COUNTS) {
      const names = Array.from({ length: count }, (_, i) => `wfbench-${tag}-${count}-${i}`);
      await backendsGone(monitor, names);
      const commitsBefore = await commits(monitor);
      // One after the other: servers of one project directory that start at the same moment race on
      // the activities build file (see the report of this case's author).
      for (const name of names) servers.push(await startServer(database.url, name));
      const clients = servers.map((s) => connect({ address: s.url }));
      let steps = 0;
      try {
        if (count === 1) {
          // Latency: one workflow at a time, as a request handler awaiting its workflow would.
          await driveSteps(clients, `n${count}-latency-warmup`, 5, 1);
          const serial = await driveSteps(clients, `n${count}-serial`, SIZES.serial, 1);
          const start = now();
          const long = await clients[0].execute('steps', {
            workflowId: `n${count}-long`,
            args: [SIZES.longSteps],
          });
          const longMs = now() - start;
          if (long !== (SIZES.longSteps * (SIZES.longSteps - 1)) / 2)
            throw new Error(`long returned ${long}`);
          steps += (5 + SIZES.serial) * STEPS + SIZES.longSteps;
          rows.push(
            row(
              `serve: 1 server, ${STEPS}-step workflows one at a time over HTTP (start + ${STEPS} steps + result)`,
              serial.ms / (SIZES.serial * STEPS),
              'ms/step',
              {
                peers: [PEERS.dbosStepIssue],
                detail: {
                  workflows: SIZES.serial,
                  workflowMsMedian: median(serial.latencies),
                  workflowMsP99: percentile(serial.latencies, 99),
                },
              },
            ),
            row(
              `serve: 1 server, one ${SIZES.longSteps}-step workflow (a step alone)`,
              longMs / SIZES.longSteps,
              'ms/step',
              { peers: [PEERS.dbosStepIssue] },
            ),
          );
        }
        await driveSteps(clients, `n${count}-warmup`, SIZES.warmup, CONCURRENCY);
        steps += SIZES.warmup * STEPS;
        const pidsBefore = await backendPids(monitor, names);
        const before = cpuSnapshot(servers, pidsBefore);
        const run = await driveSteps(clients, `n${count}-c32`, SIZES.concurrent, CONCURRENCY);
        const pidsAfter = await backendPids(monitor, names);
        const after = cpuSnapshot(servers, pidsAfter);
        steps += SIZES.concurrent * STEPS;
        const cpu = cpuReport(servers, before, after);
        const measured = SIZES.concurrent * STEPS;
        const label = `serve: ${count} server${count > 1 ? 's' : ''}`;
        const known = cpu.serverProcessPct.filter((v) => v !== null);
        rows.push(
          row(`${label}, ${CONCURRENCY} workflows at once`, measured / (run.ms / 1000), 'steps/s', {
            peers: [PEERS.dbosThroughput],
            detail: {
              workflows: SIZES.concurrent,
              steps: measured,
              seconds: run.ms / 1000,
              workflowMsMedian: median(run.latencies),
              workflowMsP99: percentile(run.latencies, 99),
              cpu,
            },
          }),
          row(
            `${label}: CPU per wf serve process (mean over ${count})`,
            known.length ? known.reduce((a, b) => a + b, 0) / known.length : Number.NaN,
            '% of a core',
            { detail: { perProcess: cpu.serverProcessPct } },
          ),
          row(
            `${label}: CPU of their PostgreSQL backends (all)`,
            cpu.databaseBackendsPct ?? Number.NaN,
            '% of a core',
            {
              detail: { perServer: cpu.databaseBackendsPerServerPct },
            },
          ),
          row(
            `${label}: machine CPU busy (${CONCURRENCY} at once)`,
            cpu.machineBusyPctOfAllCores ?? Number.NaN,
            '% of all cores',
            { detail: { driverPct: cpu.driverPct, loadAverage1m: cpu.loadAverage1m } },
          ),
        );
      } finally {
        await Promise.all(clients.map((c) => c.close()));
        await Promise.all(servers.map((s) => s.stop()));
        servers = [];
      }
      await backendsGone(monitor, names);
      const commitsAfter = await commits(monitor);
      const plural = count > 1 ? 's' : '';
      rows.push(
        row(
          `serve: ${count} server${plural}: commits that recorded events, per step`,
          (await eventCommits(monitor, `n${count}-`)) / steps,
          'commits/step',
          {
            detail: {
              note: 'distinct transactions (xmin) among the events rows of this round: one per workflow activation is the design (createRun, then one appendAsOwner per activation)',
            },
          },
        ),
        row(
          `serve: ${count} server${count > 1 ? 's' : ''}: commits per step (servers' whole life)`,
          (commitsAfter - commitsBefore) / steps,
          'commits/step',
          {
            detail: {
              commits: commitsAfter - commitsBefore,
              steps,
              isolatedDatabase: database.isolated,
              note: 'pg_stat_database.xact_commit from before the servers started to after their backends exited: includes start-up, idle polling (a claim every 500 ms per server), the monitor queries and the hand-back on SIGTERM',
            },
          },
        ),
      );
    }
    return rows;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await monitor.end().catch(() => {});
    await database.drop();
  }
}
