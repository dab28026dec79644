/**
 * How processes sharing a PostgreSQL store learn of each other's changes: LISTEN/NOTIFY on one
 * dedicated connection that reconnects and listens again when it is lost, with polling as the
 * fallback (for databases without NOTIFY, or by choice).
 *
 * Nobody sends a NOTIFY when a timer comes due or a lease runs out, so a listening feed also looks
 * at the store when the next wake-up time or lease expiry comes (a timer armed from the database's
 * own clock), on connecting and reconnecting (notifications sent while it was away are gone), and at
 * least every 30 s (a connection that died without a word).
 */

import pg from 'pg';
import type { StoreChange } from '../shared-store.js';
import type { RunKey } from '../store.js';
import { SQLSTATE, sqlState } from './connection.js';
import { channelOf, checkSchemaName } from './schema.js';

/** NOTIFY payloads must stay under 8000 bytes; a run with huge IDs is named by its row id instead. */
export const MAX_PAYLOAD_BYTES = 7000;

/** The longest a listening feed goes without looking at the store (covers a silently dead connection). */
const SAFETY_POLL_MS = 30_000;

/** The NOTIFY payload saying that a released run's wake-up time changed. */
export const WAKE_PAYLOAD = JSON.stringify({ k: 'wake' } satisfies Payload);

/** How far back a poll looks for closed runs (longer than any transaction that closes a run). */
const CLOSE_LOOKBACK_SECONDS = 10;

interface Payload {
  /** `wake`: a run was given back with a later wake-up (watchers re-arm their timer). */
  k: 'due' | 'closed' | 'wake';
  w?: string;
  r?: string;
  id?: string;
}

/** The NOTIFY payload announcing a change to a run. */
export function changePayload(kind: StoreChange['kind'], key: RunKey, runPk?: string): string {
  const k = kind === 'run-due' ? 'due' : 'closed';
  const full = JSON.stringify({ k, w: key.workflowId, r: key.runId } satisfies Payload);
  // Without the row id, the statement sending it substitutes one when it is too long (payloadSql).
  if (Buffer.byteLength(full) <= MAX_PAYLOAD_BYTES || runPk === undefined) return full;
  return JSON.stringify({ k, id: runPk } satisfies Payload);
}

export type WatchMode = 'listen' | 'poll';

export interface ChangeFeedOptions {
  url: string;
  pool: pg.Pool;
  schema: string;
  mode: WatchMode;
  pollIntervalMs: number;
}

type Listener = (change: StoreChange) => void;

/** Delivers store changes to subscribers while at least one is subscribed. */
export class ChangeFeed {
  private readonly listeners = new Set<Listener>();
  private client: pg.Client | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  /** Listening: the timer for the next wake-up time or lease expiry in the store. */
  private wakeTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelayMs = 100;
  private running = false;
  private mode: WatchMode;
  /** Database time of the last poll: runs closed after it are reported by the next. */
  private polledUntil: string | undefined;
  private polling = false;
  private reportedClosed = new Set<string>();
  private readonly s: string;

  constructor(private readonly options: ChangeFeedOptions) {
    this.mode = options.mode;
    this.s = checkSchemaName(options.schema);
  }

  /** `listen` while NOTIFY works; `poll` when configured so, or when the database has no LISTEN. */
  get currentMode(): WatchMode {
    return this.mode;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    if (!this.running) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) void this.stop();
    };
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.pollTimer = undefined;
    this.reconnectTimer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => {});
  }

  private start(): void {
    this.running = true;
    if (this.mode === 'poll') this.startPolling();
    else void this.connect();
  }

  private emit(change: StoreChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch {
        // A listener's failure is its own; the others still hear of the change.
      }
    }
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.url,
      application_name: 'wf-listen',
      keepAlive: true,
    });
    const lost = () => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => {});
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => {
      if (message.payload) void this.onPayload(message.payload);
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN "${channelOf(this.options.schema)}"`);
    } catch (error) {
      if (this.client !== client) return;
      this.client = undefined;
      await client.end().catch(() => {});
      if (sqlState(error) === SQLSTATE.featureNotSupported) {
        this.mode = 'poll';
        if (this.running) this.startPolling();
        return;
      }
      this.scheduleReconnect();
      return;
    }
    if (!this.running) {
      this.client = undefined;
      await client.end().catch(() => {});
      return;
    }
    this.reconnectDelayMs = 100;
    // What is due already was announced before this connection listened (or, after a reconnect,
    // while it was down): look at the store once, which also arms the timer for the next wake-up.
    await this.pollOnce().catch(() => this.armWake(1000));
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, 5000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.running) void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  private async onPayload(raw: string): Promise<void> {
    let payload: Payload;
    try {
      payload = JSON.parse(raw) as Payload;
    } catch {
      return;
    }
    if (payload.k === 'wake') {
      await this.pollOnce().catch(() => {});
      return;
    }
    const kind = payload.k === 'due' ? 'run-due' : payload.k === 'closed' ? 'run-closed' : undefined;
    if (!kind) return;
    let key: RunKey | undefined;
    if (typeof payload.w === 'string' && typeof payload.r === 'string') {
      key = { workflowId: payload.w, runId: payload.r };
    } else if (typeof payload.id === 'string') {
      const found = await this.options.pool
        .query<{ workflow_id: string; run_id: string }>(
          `SELECT workflow_id, run_id FROM ${this.s}.runs WHERE id = $1`,
          [payload.id],
        )
        .catch(() => undefined);
      const row = found?.rows[0];
      if (row) key = { workflowId: row.workflow_id, runId: row.run_id };
    }
    if (key && this.running) this.emit({ kind, key });
  }

  /** Listening: look at the store again in `ms` (at the latest after SAFETY_POLL_MS). */
  private armWake(ms: number): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        if (this.running) this.pollOnce().catch(() => this.armWake(1000));
      },
      Math.max(0, Math.min(ms, SAFETY_POLL_MS)),
    );
    this.wakeTimer.unref();
  }

  private startPolling(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => {
      this.pollOnce().catch(() => {
        // The database is unreachable for now; the next tick tries again.
      });
    }, this.options.pollIntervalMs);
    this.pollTimer.unref();
  }

  /**
   * One look at the store: every open run that needs a process now (a due wake-up or message, or an
   * expired lease) is reported due, and every run closed since the last look is reported closed.
   */
  async pollOnce(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      // A run closed by a transaction that began before the last look but committed after it has a
      // closed_at before that look: look back a few seconds, and report each close once.
      const since = this.polledUntil;
      const result = await this.options.pool.query<{
        kind: 'due' | 'closed' | 'now';
        workflow_id: string;
        run_id: string;
        now: string;
      }>(
        `SELECT 'due' AS kind, workflow_id, run_id, now()::text AS now FROM ${this.s}.runs
           WHERE status = 'RUNNING' AND (wake_at <= now() OR (owner IS NOT NULL AND lease_until <= now()))
         UNION ALL
         SELECT 'closed', workflow_id, run_id, now()::text FROM ${this.s}.runs
           WHERE $1::timestamptz IS NOT NULL AND closed_at > $1::timestamptz - interval '${CLOSE_LOOKBACK_SECONDS} seconds'
         UNION ALL
         SELECT 'now', '', (SELECT ceil(extract(epoch FROM min(t) - now()) * 1000)::bigint FROM (
             SELECT min(wake_at) AS t FROM ${this.s}.runs WHERE status = 'RUNNING' AND owner IS NULL AND wake_at > now()
             UNION ALL
             SELECT min(lease_until) FROM ${this.s}.runs WHERE status = 'RUNNING' AND owner IS NOT NULL AND lease_until > now()
           ) next)::text, now()::text`,
        [since ?? null],
      );
      const seenNow = new Set<string>();
      for (const row of result.rows) {
        this.polledUntil = row.now;
        if (row.kind === 'now') {
          // run_id carries the milliseconds until the next wake-up or lease expiry (by the database's clock).
          if (this.mode === 'listen' && this.running) {
            this.armWake(row.run_id === '' ? SAFETY_POLL_MS : Number(row.run_id) + 5);
          }
          continue;
        }
        if (!this.running) continue;
        const key = { workflowId: row.workflow_id, runId: row.run_id };
        if (row.kind === 'closed') {
          const id = `${row.workflow_id}\u0000${row.run_id}`;
          seenNow.add(id);
          if (this.reportedClosed.has(id)) continue;
        }
        this.emit({ kind: row.kind === 'due' ? 'run-due' : 'run-closed', key });
      }
      // Closes older than the look-back window are never queried again: forget them.
      this.reportedClosed = seenNow;
    } finally {
      this.polling = false;
    }
  }
}
