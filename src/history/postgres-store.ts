import type { StoredSchedule } from '../common/schedules.js';
import type { SearchAttributes } from '../common/search-attributes.js';
/**
 * The PostgreSQL store: the histories of every run in one database, shared by any number of
 * processes. A run is a row of `runs` (summary, lease, wake-up time, build); each event is a row of
 * `events` holding the exact line the file store would write (checksum included), so a history reads
 * back identical and exports as the same JSON Lines. Messages for a run wait in `inbox` until the
 * append that handles them consumes them, in the same transaction.
 *
 * Ownership is a lease with an epoch (fencing token). Every owned append locks the run's row and
 * checks owner, epoch and the next eventId before writing, in one transaction, so a process that
 * comes back from a pause after its lease was taken can never write. Lease and wake-up times are
 * judged by the database's clock, so clock skew between machines cannot make two processes both
 * believe they hold a run.
 */

import type pg from 'pg';
import {
  InvalidArgumentError,
  WfError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotRunningError,
} from '../common/errors.js';
import { lineBytes, prepareAppend, validateId } from './append-rules.js';
import { decodeEventLine } from './codec.js';
import { type EventOf, type HistoryEvent, type RunStatus, statusOfClosingEvent } from './events.js';
import {
  connectionError,
  createPool,
  type DatabaseTarget,
  describeTarget,
  SQLSTATE,
  sqlState,
  targetOf,
} from './postgres/connection.js';
import {
  ChangeFeed,
  changePayload,
  MAX_PAYLOAD_BYTES,
  WAKE_PAYLOAD,
  type WatchMode,
} from './postgres/notify.js';
import {
  assertSchemaCurrent,
  channelOf,
  checkSchemaName,
  DEFAULT_SCHEMA,
  migrate,
} from './postgres/schema.js';
import type {
  ActivityTask,
  InboxMessage,
  LiveServer,
  OwnedAppendResult,
  PageRequest,
  RunLease,
  RunPage,
  ServerInfo,
  SharedHistoryStore,
  StoreChange,
  StoredInboxMessage,
} from './shared-store.js';
import {
  HistoryConflictError,
  HistoryCorruptError,
  type ListRunsFilter,
  type RunKey,
  RunNotFoundError,
  type RunSummary,
} from './store.js';

export interface PostgresHistoryStoreOptions {
  /** `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`. */
  url: string;
  /** Schema holding the store's tables (default `wf`). */
  schema?: string;
  /** Create or upgrade the schema on open (default false: an old or missing schema is refused). */
  migrate?: boolean;
  /** Most connections in the pool (default 10). */
  poolSize?: number;
  /** `listen` (default): LISTEN/NOTIFY, falling back to polling where the database has none. */
  watch?: WatchMode;
  /** Polling period for `watch` when polling (default 1000 ms). */
  pollIntervalMs?: number;
  /** How long to wait for a connection (default 10 s). */
  connectionTimeoutMs?: number;
  /** Name the pool's connections show in pg_stat_activity (default `wf`). */
  applicationName?: string;
}

/** What importing one run did, and how many events it wrote. */
export interface ImportOutcome {
  outcome: 'created' | 'extended' | 'unchanged';
  events: number;
}

/** Counters, for benchmarks: how many commits (transactions, or single statements) and statements the store has sent. */
export interface PostgresStoreStats {
  commits: number;
  statements: number;
}

interface RunRow {
  id: string;
  workflow_id: string;
  run_id: string;
  workflow_type: string;
  status: RunStatus;
  start_time: string;
  start_ms: string;
  close_time: string | null;
  history_length: number;
  build_id: string | null;
  search_attributes: SearchAttributes | null;
}

interface LeaseRow {
  workflow_id: string;
  run_id: string;
  epoch: string;
  lease_ms: string;
}

const RUN_COLUMNS =
  'id, workflow_id, run_id, workflow_type, status, start_time, start_ms, close_time, history_length, build_id, search_attributes';
const LEASE_MS = 'round(extract(epoch FROM lease_until) * 1000)::bigint AS lease_ms';
/** `now()` plus a number of milliseconds given as parameter `$n`. */
const plusMs = (n: number) => `now() + $${n}::double precision * interval '1 millisecond'`;
/** A timestamp from epoch milliseconds given as parameter `$n` (NULL stays NULL). */
const fromMs = (n: number) => `to_timestamp($${n}::double precision / 1000)`;

/** A run's status and close time after appending `events`. */
function closingOf(events: readonly HistoryEvent[]): { status: RunStatus; closeTime: string } | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const status = statusOfClosingEvent(events[i]!.type);
    if (status) return { status, closeTime: events[i]!.eventTime };
  }
  return undefined;
}

function summaryOf(row: RunRow): RunSummary {
  return {
    workflowId: row.workflow_id,
    runId: row.run_id,
    workflowType: row.workflow_type,
    status: row.status,
    startTime: row.start_time,
    ...(row.close_time === null ? {} : { closeTime: row.close_time }),
    historyLength: row.history_length,
    ...(row.build_id === null ? {} : { buildId: row.build_id }),
    ...(row.search_attributes && Object.keys(row.search_attributes).length
      ? { searchAttributes: row.search_attributes }
      : {}),
  };
}

/** What a batch of events does to a run's search attributes: keys set (last value wins), keys removed. */
function searchAttributePatch(events: readonly HistoryEvent[]): { set: SearchAttributes; removed: string[] } {
  const set: SearchAttributes = {};
  const removed = new Set<string>();
  for (const event of events) {
    const update =
      event.type === 'WorkflowExecutionStarted' || event.type === 'UpsertWorkflowSearchAttributes'
        ? event.searchAttributes
        : undefined;
    for (const [key, values] of Object.entries(update ?? {})) {
      if (values.length === 0) {
        delete set[key];
        removed.add(key);
      } else {
        set[key] = values;
        removed.delete(key);
      }
    }
  }
  return { set, removed: [...removed] };
}

function leaseOf(row: LeaseRow, owner: string): RunLease {
  return {
    key: { workflowId: row.workflow_id, runId: row.run_id },
    owner,
    epoch: Number(row.epoch),
    expiresAt: Number(row.lease_ms),
  };
}

/**
 * PostgreSQL text cannot hold a NUL character (the append rules already refuse unpaired
 * surrogates), so an ID with one is refused rather than mangled.
 */
function checkStorableId(what: 'workflowId' | 'runId', id: string): void {
  validateId(what, id);
  if (id.includes('\u0000')) {
    throw new InvalidArgumentError(
      `${what} ${JSON.stringify(id)} holds a NUL character, which the PostgreSQL store cannot keep: use printable text`,
    );
  }
}

function checkLeaseMs(leaseMs: number): number {
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) {
    throw new WfError(
      'INVALID_ARGUMENT',
      `a lease must last a positive number of milliseconds, got ${leaseMs}`,
    );
  }
  return leaseMs;
}

/** The first event's id, which must be an integer >= 1. */
function firstEventId(events: readonly HistoryEvent[]): number {
  const first = events[0]?.eventId;
  if (!Number.isSafeInteger(first) || (first as number) < 1) {
    throw new InvalidArgumentError(
      `an appended event's eventId must be an integer >= 1, got ${JSON.stringify(first)}`,
    );
  }
  return first as number;
}

/**
 * SQL for a NOTIFY payload given as parameter `$n`: the payload itself, or, when it is too long for
 * NOTIFY (a run with huge IDs), one naming the run by its row id (`upd.id` in the statement).
 */
function payloadSql(n: number, kind: 'due' | 'closed'): string {
  return `CASE WHEN octet_length($${n}) <= ${MAX_PAYLOAD_BYTES} THEN $${n} ELSE json_build_object('k', '${kind}', 'id', upd.id::text)::text END`;
}

function encodeCursor(row: RunRow): string {
  return Buffer.from(JSON.stringify([row.start_ms, row.id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      value.every((v) => typeof v === 'string' && /^-?\d{1,19}$/.test(v))
    ) {
      return value as [string, string];
    }
  } catch {}
  throw new WfError(
    'INVALID_ARGUMENT',
    `the page cursor ${JSON.stringify(cursor)} is not one this store gave out`,
  );
}

/** Errors of the connection itself (the server went away mid-query). */
function isConnectionLoss(error: unknown): boolean {
  const code = sqlState(error);
  if (code === SQLSTATE.adminShutdown || code === 'ECONNRESET' || code === 'EPIPE') return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection is closed|Client has encountered a connection error/i.test(
    message,
  );
}

/** A history store in PostgreSQL, shared by every process that opens the same database and schema. */
export class PostgresHistoryStore implements SharedHistoryStore {
  private readonly s: string;
  private readonly channel: string;
  private readonly feed: ChangeFeed;
  private closed = false;
  private readonly counters: PostgresStoreStats = { commits: 0, statements: 0 };
  private bytes = 0;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly target: DatabaseTarget,
    readonly schema: string,
    url: string,
    watch: WatchMode,
    pollIntervalMs: number,
  ) {
    this.s = checkSchemaName(schema);
    this.channel = channelOf(schema);
    this.feed = new ChangeFeed({ url, pool, schema, mode: watch, pollIntervalMs });
  }

  /**
   * Connects, checks (or with `migrate`, creates or upgrades) the schema, and returns the store.
   * Fails with a message naming host, port and what to check when the database cannot be reached,
   * refuses the user, or has no up-to-date wf schema.
   */
  static async open(options: PostgresHistoryStoreOptions): Promise<PostgresHistoryStore> {
    const schema = options.schema ?? DEFAULT_SCHEMA;
    checkSchemaName(schema);
    const target = targetOf(options.url);
    const pool = createPool(options.url, {
      ...(options.poolSize ? { max: options.poolSize } : {}),
      ...(options.connectionTimeoutMs ? { connectionTimeoutMs: options.connectionTimeoutMs } : {}),
      ...(options.applicationName ? { applicationName: options.applicationName } : {}),
    });
    try {
      if (options.migrate) await migrate(pool, schema);
      else await assertSchemaCurrent(pool, schema, describeTarget(target));
    } catch (error) {
      await pool.end().catch(() => {});
      throw connectionError(error, target) ?? error;
    }
    return new PostgresHistoryStore(
      pool,
      target,
      schema,
      options.url,
      options.watch ?? 'listen',
      options.pollIntervalMs ?? 1000,
    );
  }

  /** Where the store is, for messages: `host:port/database (schema wf)`. */
  describe(): string {
    return `${describeTarget(this.target)} (schema ${this.schema})`;
  }

  /** Bytes of the event lines committed to the events table. */
  get appendedBytes(): number {
    return this.bytes;
  }

  stats(): PostgresStoreStats {
    return { ...this.counters };
  }

  /** How `watch` hears of changes right now: `listen` (NOTIFY) or `poll`. */
  watchMode(): WatchMode {
    return this.feed.currentMode;
  }

  // ------------------------------------------------------------------------------------------------
  // Plumbing

  private failure(error: unknown, doing: string): unknown {
    const connection = connectionError(error, this.target);
    if (connection) return connection;
    if (isConnectionLoss(error)) {
      return new WfError(
        'UNAVAILABLE',
        `lost the connection to PostgreSQL at ${describeTarget(this.target)} while ${doing}: if it was a write, it may or may not have been committed (read the run again to know); the next call reconnects`,
        { cause: error },
      );
    }
    return error;
  }

  private assertOpen(): void {
    if (this.closed) throw new WfError('UNAVAILABLE', `the store ${this.describe()} is closed`);
  }

  private async query<R extends pg.QueryResultRow>(
    doing: string,
    text: string,
    values: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    this.assertOpen();
    this.counters.statements++;
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      throw this.failure(error, doing);
    }
  }

  /** Runs `fn` in one transaction (READ COMMITTED: each statement sees what committed before it). */
  private async tx<T>(doing: string, fn: (client: Tx) => Promise<T>): Promise<T> {
    this.assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.failure(error, doing);
    }
    const counters = this.counters;
    const tx: Tx = {
      query: <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => {
        counters.statements++;
        return client.query<R>(text, values);
      },
    };
    let broken = false;
    try {
      counters.commits++;
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      broken = isConnectionLoss(error);
      if (!broken) await client.query('ROLLBACK').catch(() => {});
      throw this.failure(error, doing);
    } finally {
      client.release(broken);
    }
  }

  /** Single statements outside a transaction, through the pool. */
  private autocommit(doing: string): Tx {
    return {
      query: <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => {
        this.counters.commits++;
        return this.query<R>(doing, text, values);
      },
    };
  }

  private async notify(tx: Tx, kind: StoreChange['kind'], key: RunKey, runPk: string): Promise<void> {
    await tx.query('SELECT pg_notify($1, $2)', [this.channel, changePayload(kind, key, runPk)]);
  }

  /**
   * Appends in ONE statement (so one round trip, and one commit outside a transaction): the runs
   * row is updated only where the run is open, at the expected length, held by the lease (when
   * one is given) and holding every message to consume; the events are inserted and the messages
   * deleted only for a row so updated. An UPDATE that waited for the row's lock re-checks these
   * conditions against the row as the other transaction left it, so two writers never both match.
   * Returns false when nothing matched (see `whyNotAppended`).
   */
  private async appendRow(
    q: Tx,
    key: RunKey,
    events: readonly HistoryEvent[],
    lines: readonly string[],
    options: {
      /** The history length the append expects; undefined (only with a lease) for no events. */
      expectedLength: number | undefined;
      lease?: RunLease;
      consumed?: readonly number[];
      wakeAt?: number | null;
      buildId?: string;
    },
  ): Promise<boolean> {
    const closing = closingOf(events);
    const consumed = [...new Set(options.consumed ?? [])].map(String);
    const patch = searchAttributePatch(events);
    const result = await q.query<{ id: string }>(
      `WITH upd AS (
         UPDATE ${this.s}.runs SET
           history_length = history_length + cardinality($5::integer[]),
           status = coalesce($7, status),
           close_time = coalesce($8, close_time),
           closed_at = CASE WHEN $7::text IS NULL THEN closed_at ELSE now() END,
           lease_until = CASE WHEN $7::text IS NULL THEN lease_until ELSE NULL END,
           inbox_pending = inbox_pending - cardinality($9::bigint[]),
           wake_at = CASE
             WHEN $7::text IS NOT NULL THEN NULL
             WHEN inbox_pending > cardinality($9::bigint[]) THEN now()
             WHEN $10::boolean THEN ${fromMs(11)}
             ELSE wake_at END,
           build_id = coalesce($12, build_id),
           search_attributes = (search_attributes || $16::jsonb) - $17::text[]
         WHERE workflow_id = $1 AND run_id = $2 AND status = 'RUNNING'
           AND ($3::integer IS NULL OR history_length = $3)
           AND ($4::text IS NULL OR (owner = $4 AND epoch = $13))
           AND (SELECT count(*) FROM ${this.s}.inbox i WHERE i.run = runs.id AND i.id = ANY($9::bigint[]))
               = cardinality($9::bigint[])
         RETURNING id
       ), ins AS (
         INSERT INTO ${this.s}.events (run, event_id, line)
         SELECT upd.id, e.event_id, e.line FROM upd, unnest($5::integer[], $6::text[]) AS e(event_id, line)
       ), del AS (
         DELETE FROM ${this.s}.inbox WHERE run IN (SELECT id FROM upd) AND id = ANY($9::bigint[])
       )
       SELECT id, CASE WHEN $7::text IS NOT NULL THEN pg_notify($14, ${payloadSql(15, 'closed')}) END FROM upd`,
      [
        key.workflowId,
        key.runId,
        options.expectedLength ?? null,
        options.lease?.owner ?? null,
        events.map((e) => e.eventId),
        lines,
        closing?.status ?? null,
        closing?.closeTime ?? null,
        consumed,
        options.wakeAt !== undefined,
        options.wakeAt ?? null,
        options.buildId ?? null,
        String(options.lease?.epoch ?? 0),
        this.channel,
        changePayload('run-closed', key),
        JSON.stringify(patch.set),
        patch.removed,
      ],
    );
    return result.rows.length > 0;
  }

  /** Why `appendRow` matched nothing: the run is missing, held by another, closed, or moved on. */
  private async whyNotAppended(
    key: RunKey,
    events: readonly HistoryEvent[],
    expectedLength: number | undefined,
    lease: RunLease | undefined,
  ): Promise<OwnedAppendResult> {
    const found = await this.query<{
      owner: string | null;
      epoch: string;
      history_length: number;
      status: string;
    }>(
      'reading a run',
      `SELECT owner, epoch, history_length, status FROM ${this.s}.runs WHERE workflow_id = $1 AND run_id = $2`,
      [key.workflowId, key.runId],
    );
    const run = found.rows[0];
    if (!run) {
      if (lease) throw new RunNotFoundError(key);
      return { ok: false, reason: 'conflict', nextEventId: 1 };
    }
    if (lease && (run.owner !== lease.owner || Number(run.epoch) !== lease.epoch)) {
      return { ok: false, reason: 'fenced', ...(run.owner === null ? {} : { holder: run.owner }) };
    }
    if (expectedLength !== undefined && run.history_length !== expectedLength) {
      return { ok: false, reason: 'conflict', nextEventId: run.history_length + 1 };
    }
    if (run.status !== 'RUNNING') {
      // As the append rules word it.
      prepareAppend(key, { nextEventId: run.history_length + 1, closed: true }, events);
      throw new InvalidArgumentError(`cannot append to run ${key.runId}: the run is closed`);
    }
    throw new WfError(
      'INTERNAL',
      `appending to run ${key.runId}: some inbox messages to consume were not waiting (only the run's holder consumes them)`,
    );
  }

  /**
   * Inserts a new run's row and its first events. Returns undefined when another run of the
   * workflow ID is open; throws HistoryConflictError when this very run exists already.
   */
  private async insertRun(
    tx: Tx,
    key: RunKey,
    events: readonly HistoryEvent[],
    lines: readonly string[],
    lease: { owner: string; leaseMs: number; buildId?: string } | undefined,
  ): Promise<{ id: string; epoch: string; lease_ms: string | null } | undefined> {
    const first = events[0] as EventOf<'WorkflowExecutionStarted'>;
    const closing = closingOf(events);
    const inserted = await tx.query<{ id: string; epoch: string; lease_ms: string | null }>(
      `INSERT INTO ${this.s}.runs
         (workflow_id, run_id, workflow_type, status, start_time, start_ms, close_time, closed_at,
          history_length, owner, epoch, lease_until, build_id, search_attributes)
       VALUES ($1, $2, $3, coalesce($4, 'RUNNING'), $5, $6, $7, CASE WHEN $4::text IS NULL THEN NULL ELSE now() END,
          $8, CASE WHEN $4::text IS NULL THEN $9 ELSE NULL END, CASE WHEN $9::text IS NULL THEN 0 ELSE 1 END,
          CASE WHEN $4::text IS NULL AND $9::text IS NOT NULL THEN ${plusMs(10)} ELSE NULL END, $11, $12::jsonb)
       ON CONFLICT (workflow_id) WHERE status = 'RUNNING' DO NOTHING
       RETURNING id, epoch, ${LEASE_MS}`,
      [
        key.workflowId,
        key.runId,
        first.workflowType,
        closing?.status ?? null,
        first.eventTime,
        Date.parse(first.eventTime),
        closing?.closeTime ?? null,
        events.length,
        lease?.owner ?? null,
        lease?.leaseMs ?? null,
        lease?.buildId ?? null,
        JSON.stringify(searchAttributePatch(events).set),
      ],
    );
    const row = inserted.rows[0];
    if (!row) return undefined;
    await tx.query(
      `INSERT INTO ${this.s}.events (run, event_id, line)
       SELECT $1, e.event_id, e.line FROM unnest($2::integer[], $3::text[]) AS e(event_id, line)`,
      [row.id, events.map((e) => e.eventId), lines],
    );
    if (closing) await this.notify(tx, 'run-closed', key, row.id);
    return row;
  }

  /** Creates a run, or explains why not (a run of the ID is open; this run exists). */
  private async create(
    key: RunKey,
    events: readonly HistoryEvent[],
    lease: { owner: string; leaseMs: number; buildId?: string } | undefined,
  ): Promise<{ id: string; epoch: string; lease_ms: string | null }> {
    checkStorableId('workflowId', key.workflowId);
    checkStorableId('runId', key.runId);
    const { lines } = prepareAppend(key, undefined, events);
    const first = events[0] as EventOf<'WorkflowExecutionStarted'>;
    try {
      const created = await this.tx('creating a run', async (tx) => {
        // A run of the ID that closes between the failed insert and the look is retried for.
        for (let attempt = 0; attempt < 5; attempt++) {
          const row = await this.insertRun(tx, key, events, lines, lease);
          if (row) return row;
          const open = await tx.query<{ run_id: string; workflow_type: string }>(
            `SELECT run_id, workflow_type FROM ${this.s}.runs WHERE workflow_id = $1 AND status = 'RUNNING'`,
            [key.workflowId],
          );
          const other = open.rows[0];
          if (other) {
            throw new WorkflowExecutionAlreadyStartedError(
              key.workflowId,
              other.workflow_type,
              other.run_id,
              'is already running; wait for it, cancel it, or start with workflowIdConflictPolicy USE_EXISTING',
            );
          }
        }
        throw new WfError(
          'UNAVAILABLE',
          `could not create a run of ${JSON.stringify(first.workflowId)}: retry`,
        );
      });
      this.bytes += lineBytes(lines);
      return created;
    } catch (error) {
      if (sqlState(error) === SQLSTATE.uniqueViolation) {
        const existing = await this.query<{ history_length: number }>(
          'reading a run',
          `SELECT history_length FROM ${this.s}.runs WHERE workflow_id = $1 AND run_id = $2`,
          [key.workflowId, key.runId],
        );
        const length = existing.rows[0]?.history_length;
        if (length !== undefined) throw new HistoryConflictError(key, 1, length + 1);
      }
      throw error;
    }
  }

  // ------------------------------------------------------------------------------------------------
  // HistoryStore

  /**
   * Appends at the expected position without a lease (a store used by one process). A first append
   * (eventId 1) creates the run, refused while another run of the workflow ID is open.
   */
  async append(key: RunKey, events: HistoryEvent[]): Promise<void> {
    if (events.length === 0) return;
    const first = firstEventId(events);
    if (first === 1) {
      await this.create(key, events, undefined);
      return;
    }
    const { lines } = prepareAppend(key, { nextEventId: first, closed: false }, events);
    const q = this.autocommit('appending to a run');
    if (await this.appendRow(q, key, events, lines, { expectedLength: first - 1 })) {
      this.bytes += lineBytes(lines);
      return;
    }
    const why = await this.whyNotAppended(key, events, first - 1, undefined);
    if (!why.ok && why.reason === 'conflict') throw new HistoryConflictError(key, first, why.nextEventId);
  }

  async readHistory(key: RunKey): Promise<HistoryEvent[]> {
    const result = await this.query<{ id: string; event_id: number | null; line: string | null }>(
      'reading a history',
      `SELECT r.id, e.event_id, e.line FROM ${this.s}.runs r
         LEFT JOIN ${this.s}.events e ON e.run = r.id
       WHERE r.workflow_id = $1 AND r.run_id = $2
       ORDER BY e.event_id`,
      [key.workflowId, key.runId],
    );
    if (result.rows.length === 0) throw new RunNotFoundError(key);
    const file = `postgres ${this.describe()} events of workflow ${JSON.stringify(key.workflowId)} run ${key.runId}`;
    const events: HistoryEvent[] = [];
    for (const [i, row] of result.rows.entries()) {
      const corrupt = (message: string) =>
        new HistoryCorruptError({ file, line: row.event_id ?? i + 1, message });
      if (row.line === null) throw corrupt('the run has no events');
      if (row.event_id !== i + 1) throw corrupt(`event ${i + 1} is missing`);
      const decoded = decodeEventLine(row.line);
      if (!decoded.ok) throw corrupt(decoded.message);
      if (decoded.event.eventId !== row.event_id) {
        throw corrupt(`the row of event ${row.event_id} holds event ${decoded.event.eventId}`);
      }
      events.push(decoded.event);
    }
    return events;
  }

  async listRuns(filter: ListRunsFilter = {}): Promise<RunSummary[]> {
    const { where, values } = this.filterSql(filter);
    const result = await this.query<RunRow>(
      'listing runs',
      `SELECT ${RUN_COLUMNS} FROM ${this.s}.runs ${where} ORDER BY start_ms DESC, id DESC`,
      values,
    );
    return result.rows.map(summaryOf);
  }

  async latestRun(workflowId: string): Promise<RunSummary | undefined> {
    const result = await this.query<RunRow>(
      'reading the latest run',
      `SELECT ${RUN_COLUMNS} FROM ${this.s}.runs WHERE workflow_id = $1 ORDER BY start_ms DESC, id DESC LIMIT 1`,
      [workflowId],
    );
    const row = result.rows[0];
    return row ? summaryOf(row) : undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.feed.stop();
    await this.pool.end().catch(() => {});
  }

  private filterSql(filter: ListRunsFilter, values: unknown[] = []): { where: string; values: unknown[] } {
    const conditions: string[] = [];
    if (filter.status) {
      values.push(filter.status);
      conditions.push(`status = $${values.length}`);
    }
    if (filter.workflowType) {
      values.push(filter.workflowType);
      conditions.push(`workflow_type = $${values.length}`);
    }
    if (filter.workflowId) {
      values.push(filter.workflowId);
      conditions.push(`workflow_id = $${values.length}`);
    }
    return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', values };
  }

  /**
   * Copies a whole history in (from another store), in one transaction: creates the run, or appends
   * what it lacks when the database holds a prefix of it, or does nothing when it holds it all.
   * An open run imported is left unowned and due, so a process sharing the store takes it up.
   * Throws when the database holds a different history for the run, or another open run of its ID.
   */
  async importRun(key: RunKey, events: HistoryEvent[]): Promise<ImportOutcome> {
    checkStorableId('workflowId', key.workflowId);
    checkStorableId('runId', key.runId);
    const { lines } = prepareAppend(key, undefined, events);
    const imported = await this.tx('importing a run', async (tx): Promise<ImportOutcome> => {
      const found = await tx.query<{ id: string; history_length: number; owner: string | null }>(
        `SELECT id, history_length, owner FROM ${this.s}.runs WHERE workflow_id = $1 AND run_id = $2 FOR UPDATE`,
        [key.workflowId, key.runId],
      );
      const run = found.rows[0];
      if (!run) {
        const row = await this.insertRun(tx, key, events, lines, undefined);
        if (!row) {
          const open = await tx.query<{ run_id: string; workflow_type: string }>(
            `SELECT run_id, workflow_type FROM ${this.s}.runs WHERE workflow_id = $1 AND status = 'RUNNING'`,
            [key.workflowId],
          );
          throw new WorkflowExecutionAlreadyStartedError(
            key.workflowId,
            open.rows[0]?.workflow_type ?? '',
            open.rows[0]?.run_id ?? '?',
            'already has an open run in the database, so this open run cannot be imported beside it',
          );
        }
        await tx.query(
          `UPDATE ${this.s}.runs SET wake_at = CASE WHEN status = 'RUNNING' THEN now() END WHERE id = $1`,
          [row.id],
        );
        return { outcome: 'created', events: events.length };
      }
      const held = await tx.query<{ event_id: number; line: string }>(
        `SELECT event_id, line FROM ${this.s}.events WHERE run = $1 ORDER BY event_id`,
        [run.id],
      );
      const differs = held.rows.findIndex((row, i) => row.event_id !== i + 1 || row.line !== lines[i]);
      if (differs >= 0 || held.rows.length > lines.length) {
        const at = differs >= 0 ? differs + 1 : lines.length + 1;
        throw new WfError(
          'CORRUPT',
          `the database already holds a different history for workflow ${JSON.stringify(key.workflowId)} run ${key.runId} (they part at event ${at}): it was not changed; export both to compare`,
        );
      }
      if (held.rows.length === lines.length) return { outcome: 'unchanged', events: 0 };
      if (run.owner !== null) {
        throw new WfError(
          'UNAVAILABLE',
          `workflow ${JSON.stringify(key.workflowId)} run ${key.runId} is held by ${run.owner} in the database, which may be appending to it: importing more of it would fork its history`,
        );
      }
      const rest = events.slice(held.rows.length);
      const closed = prepareAppend(key, { nextEventId: held.rows.length + 1, closed: false }, rest).position
        .closed;
      const appended = await this.appendRow(tx, key, rest, lines.slice(held.rows.length), {
        expectedLength: held.rows.length,
        ...(closed ? {} : { wakeAt: Date.now() }),
      });
      if (!appended) {
        throw new WfError(
          'CORRUPT',
          `workflow ${JSON.stringify(key.workflowId)} run ${key.runId} is closed in the database but not in the store directory: it was not changed`,
        );
      }
      return { outcome: 'extended', events: rest.length };
    });
    this.bytes += lineBytes(lines.slice(lines.length - imported.events));
    return imported;
  }

  // ------------------------------------------------------------------------------------------------
  // SharedHistoryStore

  async createRun(
    key: RunKey,
    events: HistoryEvent[],
    lease: { owner: string; leaseMs: number; buildId?: string },
  ): Promise<RunLease> {
    checkLeaseMs(lease.leaseMs);
    const row = await this.create(key, events, lease);
    return {
      key: { workflowId: key.workflowId, runId: key.runId },
      owner: lease.owner,
      epoch: Number(row.epoch),
      expiresAt: row.lease_ms === null ? Date.now() : Number(row.lease_ms),
    };
  }

  async appendAsOwner(
    lease: RunLease,
    events: HistoryEvent[],
    options: { consumed?: number[]; wakeAt?: number | null; buildId?: string } = {},
  ): Promise<OwnedAppendResult> {
    const key = lease.key;
    let expectedLength: number | undefined;
    let lines: string[] = [];
    if (events.length > 0) {
      const first = firstEventId(events);
      expectedLength = first - 1;
      lines = prepareAppend(key, { nextEventId: first, closed: false }, events).lines;
    }
    const q = this.autocommit('appending to a run');
    if (await this.appendRow(q, key, events, lines, { ...options, expectedLength, lease })) {
      this.bytes += lineBytes(lines);
      return { ok: true };
    }
    return this.whyNotAppended(key, events, expectedLength, lease);
  }

  async claimDueRuns(owner: string, options: { limit: number; leaseMs: number }): Promise<RunLease[]> {
    checkLeaseMs(options.leaseMs);
    if (options.limit <= 0) return [];
    const result = await this.query<LeaseRow>(
      'claiming due runs',
      `UPDATE ${this.s}.runs r SET owner = $1,
         epoch = CASE WHEN r.owner = $1 AND r.lease_until > now() THEN r.epoch ELSE r.epoch + 1 END,
         lease_until = ${plusMs(2)}
       FROM (
         SELECT id FROM ${this.s}.runs
         WHERE status = 'RUNNING'
           AND ((owner IS NULL AND wake_at <= now()) OR (owner IS NOT NULL AND lease_until <= now())
             -- runs this process holds with messages waiting: a holder that missed a notification hears of them
             OR (owner = $1 AND id IN (SELECT run FROM ${this.s}.inbox)))
         ORDER BY coalesce(wake_at, lease_until)
         LIMIT $3
         FOR UPDATE SKIP LOCKED
       ) due
       WHERE r.id = due.id
       RETURNING r.workflow_id, r.run_id, r.epoch, ${LEASE_MS}`,
      [owner, options.leaseMs, options.limit],
    );
    return result.rows.map((row) => leaseOf(row, owner));
  }

  async claimRun(key: RunKey, owner: string, leaseMs: number): Promise<RunLease | undefined> {
    checkLeaseMs(leaseMs);
    const result = await this.query<LeaseRow>(
      'claiming a run',
      `UPDATE ${this.s}.runs SET
         epoch = CASE WHEN owner = $3 THEN epoch ELSE epoch + 1 END,
         owner = $3,
         lease_until = ${plusMs(4)}
       WHERE workflow_id = $1 AND run_id = $2 AND status = 'RUNNING'
         AND (owner IS NULL OR owner = $3 OR lease_until <= now())
       RETURNING workflow_id, run_id, epoch, ${LEASE_MS}`,
      [key.workflowId, key.runId, owner, leaseMs],
    );
    const row = result.rows[0];
    if (row) return leaseOf(row, owner);
    const exists = await this.query(
      'reading a run',
      `SELECT 1 FROM ${this.s}.runs WHERE workflow_id = $1 AND run_id = $2`,
      [key.workflowId, key.runId],
    );
    if (exists.rows.length === 0) throw new RunNotFoundError(key);
    return undefined;
  }

  async renewLeases(owner: string, leases: RunLease[], leaseMs: number): Promise<RunLease[]> {
    checkLeaseMs(leaseMs);
    if (leases.length === 0) return [];
    const result = await this.query<LeaseRow>(
      'renewing leases',
      `UPDATE ${this.s}.runs r SET lease_until = ${plusMs(2)}
       FROM unnest($3::text[], $4::text[], $5::bigint[]) AS l(workflow_id, run_id, epoch)
       WHERE r.workflow_id = l.workflow_id AND r.run_id = l.run_id AND r.epoch = l.epoch
         AND r.owner = $1 AND r.status = 'RUNNING'
       RETURNING r.workflow_id, r.run_id, r.epoch, ${LEASE_MS}`,
      [
        owner,
        leaseMs,
        leases.map((l) => l.key.workflowId),
        leases.map((l) => l.key.runId),
        leases.map((l) => String(l.epoch)),
      ],
    );
    return result.rows.map((row) => leaseOf(row, owner));
  }

  async enqueueActivityTask(
    key: RunKey,
    task: { seq: number; attempt: number; task: unknown },
  ): Promise<void> {
    await this.query(
      'offering an activity task',
      `INSERT INTO ${this.s}.activity_tasks (run, seq, attempt, task)
       SELECT r.id, $3, $4, $5 FROM ${this.s}.runs r
       WHERE r.workflow_id = $1 AND r.run_id = $2 AND r.status = 'RUNNING'
         -- an outcome of this activity is waiting in the inbox (its runner finished, the run's holder
         -- changed before recording it): the new holder records that one, nobody runs it again
         AND NOT EXISTS (
           SELECT 1 FROM ${this.s}.inbox i
           WHERE i.run = r.id AND i.message::jsonb ->> 'kind' = 'activity-outcome'
             AND coalesce(i.message::jsonb -> 'input' ->> 'seq', i.message::jsonb -> 'info' -> 0 ->> 'seq')::int = $3
         )
       ON CONFLICT (run, seq, attempt) DO NOTHING`,
      [key.workflowId, key.runId, task.seq, task.attempt, JSON.stringify(task.task)],
    );
  }

  async claimActivityTasks(
    owner: string,
    options: { limit: number; leaseMs: number },
  ): Promise<ActivityTask[]> {
    checkLeaseMs(options.leaseMs);
    if (options.limit <= 0) return [];
    const result = await this.query<{
      id: string;
      seq: number;
      attempt: number;
      task: string;
      heartbeat: string | null;
      workflow_id: string;
      run_id: string;
    }>(
      'claiming activity tasks',
      `WITH claimed AS (
         UPDATE ${this.s}.activity_tasks t SET owner = $1, lease_until = ${plusMs(2)}
         FROM (
           SELECT t.id FROM ${this.s}.activity_tasks t
           WHERE (t.owner IS NULL OR t.lease_until <= now())
             -- an attempt of a run that has closed is never started
             AND EXISTS (SELECT 1 FROM ${this.s}.runs r WHERE r.id = t.run AND r.status = 'RUNNING')
           ORDER BY t.id LIMIT $3
           FOR UPDATE SKIP LOCKED
         ) due
         WHERE t.id = due.id
         RETURNING t.id, t.run, t.seq, t.attempt, t.task, t.heartbeat
       )
       SELECT c.id, c.seq, c.attempt, c.task, c.heartbeat, r.workflow_id, r.run_id
       FROM claimed c JOIN ${this.s}.runs r ON r.id = c.run ORDER BY c.id`,
      [owner, options.leaseMs, options.limit],
    );
    return result.rows.map((row) => ({
      id: Number(row.id),
      key: { workflowId: row.workflow_id, runId: row.run_id },
      seq: row.seq,
      attempt: row.attempt,
      task: JSON.parse(row.task) as unknown,
      ...(row.heartbeat === null ? {} : { heartbeatDetails: JSON.parse(row.heartbeat) as unknown }),
    }));
  }

  async renewActivityTask(
    id: number,
    owner: string,
    leaseMs: number,
    heartbeatDetails?: unknown,
  ): Promise<{ held: boolean; cancelRequested: boolean }> {
    checkLeaseMs(leaseMs);
    const details = heartbeatDetails === undefined ? null : JSON.stringify(heartbeatDetails);
    const result = await this.query<{ cancel_requested: boolean }>(
      'renewing an activity task',
      `UPDATE ${this.s}.activity_tasks SET lease_until = ${plusMs(3)}, heartbeat = coalesce($4, heartbeat)
       WHERE id = $1 AND owner = $2 RETURNING cancel_requested`,
      [id, owner, leaseMs, details],
    );
    const row = result.rows[0];
    return row
      ? { held: true, cancelRequested: row.cancel_requested }
      : { held: false, cancelRequested: false };
  }

  async finishActivityTask(id: number, owner: string, message: InboxMessage): Promise<boolean> {
    const result = await this.query<{ id: string }>(
      'recording an activity outcome',
      `WITH done AS (
         DELETE FROM ${this.s}.activity_tasks WHERE id = $1 AND owner = $2 RETURNING run
       ), upd AS (
         UPDATE ${this.s}.runs SET wake_at = now(), inbox_pending = inbox_pending + 1
         WHERE id = (SELECT run FROM done) AND status = 'RUNNING'
         RETURNING id, workflow_id, run_id
       ), ins AS (
         INSERT INTO ${this.s}.inbox (run, message) SELECT id, $3 FROM upd
       )
       SELECT id, pg_notify($4, json_build_object('k', 'due', 'id', id::text)::text) FROM upd`,
      [id, owner, JSON.stringify(message), this.channel],
    );
    return result.rows.length > 0;
  }

  async cancelActivityTask(key: RunKey, seq: number): Promise<'waiting' | 'running' | 'none'> {
    const result = await this.query<{ waiting: boolean }>(
      'cancelling an activity task',
      `WITH target AS (
         SELECT t.id, t.owner IS NULL AS waiting FROM ${this.s}.activity_tasks t
         JOIN ${this.s}.runs r ON r.id = t.run
         WHERE r.workflow_id = $1 AND r.run_id = $2 AND t.seq = $3
       ), gone AS (
         DELETE FROM ${this.s}.activity_tasks WHERE id IN (SELECT id FROM target WHERE waiting)
       ), marked AS (
         UPDATE ${this.s}.activity_tasks SET cancel_requested = true WHERE id IN (SELECT id FROM target WHERE NOT waiting)
       )
       SELECT waiting FROM target`,
      [key.workflowId, key.runId, seq],
    );
    const row = result.rows[0];
    if (!row) return 'none';
    return row.waiting ? 'waiting' : 'running';
  }

  async saveSchedule(schedule: StoredSchedule): Promise<void> {
    await this.query(
      'saving a schedule',
      `INSERT INTO ${this.s}.schedules (schedule_id, body) VALUES ($1, $2)
       ON CONFLICT (schedule_id) DO UPDATE SET body = EXCLUDED.body, updated_at = now()`,
      [schedule.scheduleId, JSON.stringify(schedule)],
    );
  }

  async deleteSchedule(scheduleId: string): Promise<boolean> {
    const result = await this.query(
      'deleting a schedule',
      `DELETE FROM ${this.s}.schedules WHERE schedule_id = $1`,
      [scheduleId],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async listSchedules(): Promise<StoredSchedule[]> {
    const result = await this.query<{ body: string }>(
      'listing schedules',
      `SELECT body FROM ${this.s}.schedules ORDER BY schedule_id`,
    );
    return result.rows.map((row) => JSON.parse(row.body) as StoredSchedule);
  }

  async heartbeatServer(server: ServerInfo): Promise<void> {
    await this.query(
      'recording this server',
      `INSERT INTO ${this.s}.servers (owner, build_id, host, pid, address) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (owner) DO UPDATE SET last_seen = now(), build_id = EXCLUDED.build_id, address = EXCLUDED.address`,
      [server.owner, server.buildId ?? null, server.host, server.pid, server.address ?? null],
    );
  }

  async removeServer(owner: string): Promise<void> {
    await this.query('removing this server', `DELETE FROM ${this.s}.servers WHERE owner = $1`, [owner]);
  }

  async listServers(aliveWithinMs: number): Promise<LiveServer[]> {
    const result = await this.query<{
      owner: string;
      build_id: string | null;
      host: string;
      pid: number;
      address: string | null;
      started_at: Date;
      last_seen: Date;
      runs: string;
    }>(
      'listing servers',
      `SELECT s.owner, s.build_id, s.host, s.pid, s.address, s.started_at, s.last_seen,
              (SELECT count(*) FROM ${this.s}.runs r WHERE r.owner = s.owner AND r.status = 'RUNNING' AND r.lease_until > now()) AS runs
       FROM ${this.s}.servers s
       WHERE s.last_seen > now() - make_interval(secs => $1::double precision / 1000)
       ORDER BY s.started_at`,
      [aliveWithinMs],
    );
    return result.rows.map((row) => ({
      owner: row.owner,
      ...(row.build_id === null ? {} : { buildId: row.build_id }),
      host: row.host,
      pid: row.pid,
      ...(row.address === null ? {} : { address: row.address }),
      startedAt: row.started_at.toISOString(),
      lastSeen: row.last_seen.toISOString(),
      heldRuns: Number(row.runs),
    }));
  }

  async releaseRun(lease: RunLease, options: { wakeAt?: number | null } = {}): Promise<void> {
    const result = await this.query<{ id: string; due: boolean | null }>(
      'releasing a run',
      `UPDATE ${this.s}.runs SET owner = NULL, lease_until = NULL,
         wake_at = CASE
           WHEN status <> 'RUNNING' THEN NULL
           WHEN inbox_pending > 0 THEN now()
           WHEN $5::boolean THEN ${fromMs(6)}
           ELSE wake_at END
       WHERE workflow_id = $1 AND run_id = $2 AND owner = $3 AND epoch = $4
       RETURNING id, wake_at <= now() AS due`,
      [
        lease.key.workflowId,
        lease.key.runId,
        lease.owner,
        String(lease.epoch),
        options.wakeAt !== undefined,
        options.wakeAt ?? null,
      ],
    );
    const row = result.rows[0];
    if (!row) return;
    // Another process may take it right away; or watchers re-arm their timer for its wake-up.
    await this.query('announcing a released run', 'SELECT pg_notify($1, $2)', [
      this.channel,
      row.due ? changePayload('run-due', lease.key, row.id) : WAKE_PAYLOAD,
    ]);
  }

  async deliver(key: RunKey, message: InboxMessage): Promise<void> {
    const delivered = await this.query(
      'delivering a message',
      `WITH upd AS (
         UPDATE ${this.s}.runs SET wake_at = now(), inbox_pending = inbox_pending + 1
         WHERE workflow_id = $1 AND run_id = $2 AND status = 'RUNNING'
         RETURNING id
       ), ins AS (
         INSERT INTO ${this.s}.inbox (run, message) SELECT id, $3 FROM upd
       )
       SELECT id, pg_notify($4, ${payloadSql(5, 'due')}) FROM upd`,
      [key.workflowId, key.runId, JSON.stringify(message), this.channel, changePayload('run-due', key)],
    );
    if (delivered.rows.length > 0) return;
    const found = await this.query<{ status: string }>(
      'reading a run',
      `SELECT status FROM ${this.s}.runs WHERE workflow_id = $1 AND run_id = $2`,
      [key.workflowId, key.runId],
    );
    const status = found.rows[0]?.status;
    if (status === undefined) throw new RunNotFoundError(key);
    throw new WorkflowNotRunningError(key.workflowId, key.runId, status);
  }

  async readInbox(key: RunKey): Promise<StoredInboxMessage[]> {
    const result = await this.query<{ id: string; message: string }>(
      'reading an inbox',
      `SELECT i.id, i.message FROM ${this.s}.inbox i JOIN ${this.s}.runs r ON r.id = i.run
       WHERE r.workflow_id = $1 AND r.run_id = $2 ORDER BY i.id`,
      [key.workflowId, key.runId],
    );
    return result.rows.map((row) => ({
      id: Number(row.id),
      key: { workflowId: key.workflowId, runId: key.runId },
      // Written by JSON.stringify above; JSON.parse keeps a payload's "__proto__" keys as own data
      // (never a prototype), so a signal delivered through the inbox arrives as it was sent.
      message: JSON.parse(row.message) as InboxMessage,
    }));
  }

  watch(listener: (change: StoreChange) => void): () => void {
    this.assertOpen();
    return this.feed.subscribe(listener);
  }

  async listRunsPage(filter: ListRunsFilter, page: PageRequest): Promise<RunPage> {
    const pageSize = Math.max(1, Math.min(1000, Math.floor(page.pageSize)));
    const { where, values } = this.filterSql(filter);
    let condition = where;
    if (page.after !== undefined) {
      const [startMs, id] = decodeCursor(page.after);
      values.push(startMs, id);
      const after = `(start_ms, id) < ($${values.length - 1}::bigint, $${values.length}::bigint)`;
      condition = condition ? `${condition} AND ${after}` : `WHERE ${after}`;
    }
    values.push(pageSize + 1);
    const result = await this.query<RunRow>(
      'listing runs',
      `SELECT ${RUN_COLUMNS} FROM ${this.s}.runs ${condition} ORDER BY start_ms DESC, id DESC LIMIT $${values.length}`,
      values,
    );
    const rows = result.rows.slice(0, pageSize);
    const last = rows[rows.length - 1];
    return {
      runs: rows.map(summaryOf),
      ...(result.rows.length > pageSize && last ? { nextCursor: encodeCursor(last) } : {}),
    };
  }
}

interface Tx {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}
