/**
 * The PostgreSQL store's schema: versioned migrations applied in order, each once, inside one
 * transaction that holds an advisory lock, so two processes migrating at once (two `wf serve
 * --migrate` starting together) neither fail nor apply a step twice.
 *
 * Every name lives in one schema (`wf` unless configured), so the store can share a database with
 * the application's own tables, and a test can use a throwaway schema.
 */

import type pg from 'pg';
import { InvalidArgumentError, WfError } from '../../common/errors.js';

/** A schema name the store accepts: lower-case letters, digits and `_`, starting with a letter or `_`. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,39}$/;

export const DEFAULT_SCHEMA = 'wf';

/** Checks a schema name and returns it quoted for SQL. */
export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new InvalidArgumentError(
      `schema name ${JSON.stringify(schema)} is not allowed: use 1 to 40 lower-case letters, digits or _ (starting with a letter or _), for example "wf"`,
    );
  }
  return `"${schema}"`;
}

/** The NOTIFY channel of a schema's store (one per schema, so two stores in one database stay apart). */
export function channelOf(schema: string): string {
  return `${schema}_changes`;
}

interface Migration {
  version: number;
  name: string;
  /** SQL with `{s}` standing for the quoted schema name. */
  sql: string;
}

/**
 * The migrations, oldest first. Never edit one that has shipped: add the next version instead.
 *
 * Version 1: runs (one row per run: summary, lease, wake-up, build), events (one row per event,
 * holding the exact line the file store writes, checksum included), inbox (messages for a run,
 * consumed by the append that handles them).
 * Version 2: servers (each `wf serve` sharing the store, its build, and when it was last seen).
 * Version 3: activity_tasks (attempts any server may claim and run; outcomes go to the run's inbox).
 * Version 4: runs.search_attributes (the run's search attributes, for listing and filtering).
 * Version 6: schedules (one row per schedule, its JSON).
 * Version 5: activity_tasks.heartbeat (a runner's last heartbeat details, kept for a re-run elsewhere).
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, events, inbox',
    sql: `
CREATE TABLE {s}.runs (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workflow_id     text NOT NULL,
  run_id          text NOT NULL,
  workflow_type   text NOT NULL,
  status          text NOT NULL CHECK (status IN ('RUNNING', 'COMPLETED', 'FAILED', 'CANCELED', 'TERMINATED', 'TIMED_OUT', 'CONTINUED_AS_NEW')),
  start_time      text NOT NULL,
  start_ms        bigint NOT NULL,
  close_time      text,
  closed_at       timestamptz,
  history_length  integer NOT NULL CHECK (history_length >= 1),
  owner           text,
  epoch           bigint NOT NULL DEFAULT 0,
  lease_until     timestamptz,
  wake_at         timestamptz,
  inbox_pending   integer NOT NULL DEFAULT 0 CHECK (inbox_pending >= 0),
  build_id        text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT runs_key UNIQUE (workflow_id, run_id)
);
COMMENT ON TABLE {s}.runs IS 'wf: one row per workflow run; its history is in events';
COMMENT ON COLUMN {s}.runs.epoch IS 'fencing token: grows each time the run changes hands';
COMMENT ON COLUMN {s}.runs.inbox_pending IS 'messages waiting in inbox (kept with the row, so an append decides its wake-up under the row lock)';
COMMENT ON COLUMN {s}.runs.wake_at IS 'when the run next needs a process (a timer, a message); claimed once due';
CREATE UNIQUE INDEX runs_one_running_per_workflow_id ON {s}.runs (workflow_id) WHERE status = 'RUNNING';
CREATE INDEX runs_by_start ON {s}.runs (start_ms DESC, id DESC);
CREATE INDEX runs_by_workflow_id ON {s}.runs (workflow_id, start_ms DESC, id DESC);
CREATE INDEX runs_released_wake ON {s}.runs (wake_at) WHERE status = 'RUNNING' AND owner IS NULL;
CREATE INDEX runs_leased_until ON {s}.runs (lease_until) WHERE status = 'RUNNING' AND owner IS NOT NULL;
CREATE INDEX runs_closed_at ON {s}.runs (closed_at) WHERE closed_at IS NOT NULL;

CREATE TABLE {s}.events (
  run       bigint NOT NULL REFERENCES {s}.runs (id) ON DELETE CASCADE,
  event_id  integer NOT NULL CHECK (event_id >= 1),
  line      text NOT NULL,
  PRIMARY KEY (run, event_id)
);
COMMENT ON TABLE {s}.events IS 'wf: one row per history event, the exact JSON line of history format v1 (with its crc)';

CREATE TABLE {s}.inbox (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run           bigint NOT NULL REFERENCES {s}.runs (id) ON DELETE CASCADE,
  message       text NOT NULL,
  delivered_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbox_by_run ON {s}.inbox (run, id);
COMMENT ON TABLE {s}.inbox IS 'wf: signals, cancels, terminates and child outcomes waiting for the run''s holder';
`,
  },
  {
    version: 2,
    name: 'servers',
    sql: `
CREATE TABLE {s}.servers (
  owner       text PRIMARY KEY,
  build_id    text,
  host        text NOT NULL,
  pid         integer NOT NULL,
  address     text,
  started_at  timestamptz NOT NULL DEFAULT now(),
  last_seen   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE {s}.servers IS 'wf: the servers sharing this store, each with the build of the code it runs (rolling deploys)';
`,
  },
  {
    version: 3,
    name: 'activity tasks',
    sql: `
CREATE TABLE {s}.activity_tasks (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run               bigint NOT NULL REFERENCES {s}.runs (id) ON DELETE CASCADE,
  seq               integer NOT NULL,
  attempt           integer NOT NULL,
  task              text NOT NULL,
  owner             text,
  lease_until       timestamptz,
  cancel_requested  boolean NOT NULL DEFAULT false,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (run, seq, attempt)
);
CREATE INDEX activity_tasks_waiting ON {s}.activity_tasks (id) WHERE owner IS NULL;
CREATE INDEX activity_tasks_leased ON {s}.activity_tasks (lease_until) WHERE owner IS NOT NULL;
COMMENT ON TABLE {s}.activity_tasks IS 'wf: activity attempts waiting for, or run by, any server; the outcome goes to the run''s inbox';
`,
  },
  {
    version: 4,
    name: 'search attributes',
    sql: `
ALTER TABLE {s}.runs ADD COLUMN search_attributes jsonb NOT NULL DEFAULT '{}'::jsonb;
CREATE INDEX runs_search_attributes ON {s}.runs USING gin (search_attributes);
COMMENT ON COLUMN {s}.runs.search_attributes IS 'wf: the run''s search attributes (start, then upserts), for listing';
`,
  },
  {
    version: 5,
    name: 'activity heartbeats',
    sql: `
ALTER TABLE {s}.activity_tasks ADD COLUMN heartbeat text;
COMMENT ON COLUMN {s}.activity_tasks.heartbeat IS 'wf: the runner''s last heartbeat details (JSON), for a re-run after it stops';
`,
  },
  {
    version: 6,
    name: 'schedules',
    sql: `
CREATE TABLE {s}.schedules (
  schedule_id  text PRIMARY KEY,
  body         text NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE {s}.schedules IS 'wf: Temporal-style schedules (spec, action, policies, state, recent actions)';
`,
  },
];

/** The schema version this wf reads and writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Advisory lock class for migrations (the second key is the schema name's hash). */
const MIGRATION_LOCK_CLASS = 0x7766; // "wf"

export interface MigrationReport {
  schema: string;
  /** Versions applied by this call, oldest first (empty when the schema was up to date). */
  applied: { version: number; name: string }[];
  version: number;
}

/**
 * Creates or upgrades the store's schema. Idempotent, and safe when several processes call it at
 * once: they queue on an advisory lock and each applies only what is still missing.
 */
export async function migrate(pool: pg.Pool, schema: string): Promise<MigrationReport> {
  const s = checkSchemaName(schema);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const done = await client.query<{ version: number }>(`SELECT version FROM ${s}.migrations`);
      const have = new Set(done.rows.map((r) => r.version));
      const newest = Math.max(0, ...have);
      if (newest > SCHEMA_VERSION) throw newerSchemaError(schema, newest);
      const applied: MigrationReport['applied'] = [];
      for (const m of MIGRATIONS) {
        if (have.has(m.version)) continue;
        await client.query(m.sql.replaceAll('{s}', s));
        await client.query(`INSERT INTO ${s}.migrations (version, name) VALUES ($1, $2)`, [
          m.version,
          m.name,
        ]);
        applied.push({ version: m.version, name: m.name });
      }
      await client.query('COMMIT');
      return { schema, applied, version: SCHEMA_VERSION };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  } finally {
    client.release();
  }
}

/** The version of the store's schema in the database (0 when it has none). */
export async function schemaVersion(pool: pg.Pool, schema: string): Promise<number> {
  const s = checkSchemaName(schema);
  const exists = await pool.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [
    `${s}.migrations`,
  ]);
  if (!exists.rows[0]?.found) return 0;
  const result = await pool.query<{ version: number | null }>(
    `SELECT max(version) AS version FROM ${s}.migrations`,
  );
  return result.rows[0]?.version ?? 0;
}

/** The store's schema is missing or older than this wf. */
export class SchemaNotMigratedError extends WfError {
  override name = 'SchemaNotMigratedError';
  constructor(
    readonly schema: string,
    readonly found: number,
    where: string,
  ) {
    super(
      'UNAVAILABLE',
      found === 0
        ? `the database ${where} has no wf schema "${schema}": run \`wf db migrate --store URL${schema === DEFAULT_SCHEMA ? '' : ` --schema ${schema}`}\` or start with --migrate`
        : `the wf schema "${schema}" in ${where} is at version ${found}, this wf needs version ${SCHEMA_VERSION}: run \`wf db migrate --store URL${schema === DEFAULT_SCHEMA ? '' : ` --schema ${schema}`}\` or start with --migrate`,
    );
  }
}

function newerSchemaError(schema: string, found: number): WfError {
  return new WfError(
    'UNAVAILABLE',
    `the wf schema "${schema}" is at version ${found}, written by a newer wf (this wf knows versions up to ${SCHEMA_VERSION}): upgrade wf`,
  );
}

/** Refuses a schema that is missing, older or newer than this wf's. */
export async function assertSchemaCurrent(pool: pg.Pool, schema: string, where: string): Promise<void> {
  const found = await schemaVersion(pool, schema);
  if (found > SCHEMA_VERSION) throw newerSchemaError(schema, found);
  if (found < SCHEMA_VERSION) throw new SchemaNotMigratedError(schema, found, where);
}
