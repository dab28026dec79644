import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sampleHistory } from '../../test/support/history-samples.js';
import {
  dropSchemas,
  postgresAvailable,
  randomSchema,
  sql,
  TEST_DATABASE_URL,
} from '../../test/support/postgres-db.js';
import { serializeEventWithCrc } from './codec.js';
import { targetOf } from './postgres/connection.js';
import { migrate, SCHEMA_VERSION } from './postgres/schema.js';
import { PostgresHistoryStore } from './postgres-store.js';
import type { StoreChange } from './shared-store.js';
import { HistoryCorruptError } from './store.js';

const schemas: string[] = [];
const stores: PostgresHistoryStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
afterAll(() => dropSchemas(schemas));

function schema(): string {
  const name = randomSchema();
  schemas.push(name);
  return name;
}

async function open(options: Partial<Parameters<typeof PostgresHistoryStore.open>[0]> = {}) {
  const store = await PostgresHistoryStore.open({ url: TEST_DATABASE_URL, poolSize: 3, ...options });
  stores.push(store);
  return store;
}

/** A URL like the test database's, with some parts changed. */
function urlWith(change: (url: URL) => void): string {
  const url = new URL(TEST_DATABASE_URL);
  change(url);
  return url.toString();
}

describe.runIf(postgresAvailable)('PostgresHistoryStore', () => {
  it('migrates idempotently, and when several processes migrate one schema at once', async () => {
    const name = schema();
    const pools = Array.from(
      { length: 5 },
      () => new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 }),
    );
    try {
      const reports = await Promise.all(pools.map((pool) => migrate(pool, name)));
      expect(reports.filter((r) => r.applied.length > 0)).toHaveLength(1);
      expect(reports.every((r) => r.version === SCHEMA_VERSION)).toBe(true);
      expect((await migrate(pools[0]!, name)).applied).toEqual([]);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
    const rows = await sql<{ version: number }>(`SELECT version FROM "${name}".migrations ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it('refuses a schema that was never migrated, saying how to migrate it', async () => {
    const name = schema();
    await expect(open({ schema: name })).rejects.toThrow(
      new RegExp(
        `no wf schema "${name}": run \`wf db migrate --store URL --schema ${name}\` or start with --migrate`,
      ),
    );
    const store = await open({ schema: name, migrate: true });
    await store.append({ workflowId: 'w', runId: 'r' }, sampleHistory('w', 'r').slice(0, 1));
    expect(await (await open({ schema: name })).listRuns()).toHaveLength(1);
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await expect(open({ schema: 'wf"; DROP TABLE x; --' })).rejects.toThrow(/schema name .* is not allowed/);
  });

  it('says which host and port could not be reached', async () => {
    const url = urlWith((u) => {
      u.hostname = '127.0.0.1';
      u.port = '1';
    });
    await expect(open({ url, schema: schema() })).rejects.toThrow(
      /cannot reach PostgreSQL at 127\.0\.0\.1:1 \(connection refused\): check that the server is running/,
    );
  });

  it('says which user was refused, and which database is missing', async () => {
    const badUser = urlWith((u) => {
      u.username = 'no_such_wf_user';
    });
    await expect(open({ url: badUser, schema: schema() })).rejects.toThrow(
      /refused user "no_such_wf_user".*Check the user and password/,
    );
    const badDb = urlWith((u) => {
      u.pathname = '/no_such_wf_database';
    });
    await expect(open({ url: badDb, schema: schema() })).rejects.toThrow(
      /has no database "no_such_wf_database": create it/,
    );
  });

  it('stores each event as the exact line the file store writes', async () => {
    const name = schema();
    const store = await open({ schema: name, migrate: true });
    const events = sampleHistory('lines', 'r');
    await store.append({ workflowId: 'lines', runId: 'r' }, events);
    const rows = await sql<{ line: string }>(`SELECT line FROM "${name}".events ORDER BY event_id`);
    expect(rows.map((r) => r.line)).toEqual(events.map(serializeEventWithCrc));
  });

  it('reports a damaged row with the run and event, never using it', async () => {
    const name = schema();
    const store = await open({ schema: name, migrate: true });
    const key = { workflowId: 'damaged', runId: 'r' };
    await store.append(key, sampleHistory('damaged', 'r'));
    await sql(`UPDATE "${name}".events SET line = replace(line, 'boom', 'BOOM') WHERE event_id = 4`);
    const read = store.readHistory(key);
    await expect(read).rejects.toBeInstanceOf(HistoryCorruptError);
    await expect(read).rejects.toThrow(/events of workflow "damaged" run r:4: checksum mismatch/);
  });

  it('refuses IDs that PostgreSQL text cannot hold', async () => {
    const store = await open({ schema: schema(), migrate: true });
    const key = { workflowId: 'nul\u0000id', runId: 'r' };
    await expect(store.append(key, sampleHistory(key.workflowId, 'r').slice(0, 1))).rejects.toThrow(
      /holds a NUL character, which the PostgreSQL store cannot keep/,
    );
  });

  it('keeps one open run per workflow ID for plain appends too', async () => {
    const store = await open({ schema: schema(), migrate: true });
    await store.append({ workflowId: 'w', runId: 'r1' }, sampleHistory('w', 'r1').slice(0, 1));
    await expect(
      store.append({ workflowId: 'w', runId: 'r2' }, sampleHistory('w', 'r2').slice(0, 1)),
    ).rejects.toMatchObject({ code: 'ALREADY_STARTED', runId: 'r1' });
  });

  it('imports a history whole, completes a prefix, leaves a copy alone and refuses a different one', async () => {
    const store = await open({ schema: schema(), migrate: true });
    const events = sampleHistory('imp', 'r');
    const key = { workflowId: 'imp', runId: 'r' };
    expect(await store.importRun(key, events.slice(0, 4))).toEqual({ outcome: 'created', events: 4 });
    expect(await store.importRun(key, events)).toEqual({ outcome: 'extended', events: 6 });
    expect(await store.importRun(key, events)).toEqual({ outcome: 'unchanged', events: 0 });
    expect(await store.readHistory(key)).toEqual(events);
    expect((await store.latestRun('imp'))?.status).toBe('COMPLETED');
    const other = events.map((e) => (e.eventId === 8 ? { ...e, args: ['changed'] } : e));
    await expect(store.importRun(key, other)).rejects.toThrow(/different history .* part at event 8/);
    await expect(store.importRun(key, events.slice(0, 3))).rejects.toThrow(/different history/);
    expect(await store.readHistory(key)).toEqual(events);
  });

  it('leaves an imported open run unowned and due, for a server to take up', async () => {
    const store = await open({ schema: schema(), migrate: true });
    const open1 = sampleHistory('open', 'r1').slice(0, 3);
    expect((await store.importRun({ workflowId: 'open', runId: 'r1' }, open1)).outcome).toBe('created');
    await expect(
      store.importRun({ workflowId: 'open', runId: 'r2' }, sampleHistory('open', 'r2').slice(0, 1)),
    ).rejects.toMatchObject({ code: 'ALREADY_STARTED', runId: 'r1' });
    const [claimed] = await store.claimDueRuns('server', { limit: 10, leaseMs: 60_000 });
    expect(claimed).toMatchObject({ key: { workflowId: 'open', runId: 'r1' }, epoch: 1 });
  });

  it('tells watchers of runs whose IDs are too long for a NOTIFY payload (by row id)', async () => {
    const name = schema();
    const a = await open({ schema: name, migrate: true });
    const b = await open({ schema: name });
    const key = { workflowId: '\u0001'.repeat(1000), runId: '\u0002'.repeat(1000) };
    const seen: StoreChange[] = [];
    const stop = b.watch((change) => seen.push(change));
    try {
      const lease = await a.createRun(key, sampleHistory(key.workflowId, key.runId).slice(0, 1), {
        owner: 'A',
        leaseMs: 60_000,
      });
      await waitFor(async () => {
        await a.deliver(key, { kind: 'cancel' });
        await new Promise((resolve) => setTimeout(resolve, 50));
        return seen.some((c) => c.kind === 'run-due' && c.key.workflowId === key.workflowId);
      }, 'run-due for a run with long IDs');
      const consumed = (await a.readInbox(key)).map((m) => m.id);
      const closing = {
        eventId: 2,
        eventTime: sampleHistory()[0]!.eventTime,
        type: 'WorkflowExecutionCanceled' as const,
      };
      expect(await a.appendAsOwner(lease, [closing], { consumed })).toEqual({ ok: true });
      await waitFor(
        () => seen.some((c) => c.kind === 'run-closed' && c.key.runId === key.runId),
        'run-closed for a run with long IDs',
      );
    } finally {
      stop();
    }
  });

  it('listens again after its LISTEN connection is killed, catching up on what it missed', async () => {
    const name = schema();
    const a = await open({ schema: name, migrate: true });
    const b = await open({ schema: name });
    const seen: StoreChange[] = [];
    const stop = b.watch((change) => seen.push(change));
    try {
      const key = { workflowId: 'reconnect', runId: 'r' };
      await a.createRun(key, sampleHistory('reconnect', 'r').slice(0, 1), { owner: 'A', leaseMs: 60_000 });
      const listening = async () =>
        (
          await sql<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'wf-listen' AND query LIKE 'LISTEN "${name}_changes"%'`,
          )
        )[0]!.n;
      await waitFor(async () => (await listening()) === 1, 'the LISTEN connection');
      await sql(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'wf-listen' AND query LIKE 'LISTEN "${name}_changes"%'`,
      );
      // Delivered while the listener may be down: the catch-up poll after reconnecting reports it.
      await a.deliver(key, { kind: 'signal', signalName: 'while-down', args: [] });
      await waitFor(async () => (await listening()) === 1, 'the LISTEN connection again');
      await waitFor(() => seen.some((c) => c.kind === 'run-due'), 'run-due after reconnecting');
      seen.length = 0;
      await a.deliver(key, { kind: 'signal', signalName: 'after', args: [] });
      await waitFor(() => seen.some((c) => c.kind === 'run-due'), 'a notification on the new connection');
    } finally {
      stop();
    }
  });

  it('survives its pooled connections being killed: the next call reconnects', async () => {
    const name = schema();
    const store = await open({ schema: name, migrate: true, applicationName: name });
    await store.append({ workflowId: 'w', runId: 'r' }, sampleHistory('w', 'r').slice(0, 2));
    const killed = await sql(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = $2`,
      [name, targetOf(TEST_DATABASE_URL).database],
    );
    expect(killed.length).toBeGreaterThan(0);
    // A killed idle connection may fail the first call with a clear UNAVAILABLE; the pool replaces it.
    let events = 0;
    await waitFor(async () => {
      try {
        events = (await store.readHistory({ workflowId: 'w', runId: 'r' })).length;
        return true;
      } catch (error) {
        expect(error).toMatchObject({ code: 'UNAVAILABLE' });
        return false;
      }
    }, 'a read after the connections were killed');
    expect(events).toBe(2);
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
