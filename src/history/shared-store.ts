import type { HistoryEvent } from './events.js';
import type { HistoryStore, ListRunsFilter, RunKey, RunSummary } from './store.js';

/**
 * A process's hold on one run. Only the holder works on the run; every append it makes is
 * conditional on `epoch` (a fencing token that grows each time the run changes hands), so a holder
 * that was paused past its lease (GC pause, SIGSTOP, a partition) can never fork the history.
 */
export interface RunLease {
  key: RunKey;
  /** The holding process (a random ID per process start). */
  owner: string;
  epoch: number;
  /** Epoch ms after which another process may take the run. */
  expiresAt: number;
}

/** A message for a run, recorded durably whichever process holds the run (or none). */
export type InboxMessage =
  | { kind: 'signal'; signalName: string; args: unknown[]; requestId?: string }
  | { kind: 'cancel'; reason?: string }
  | { kind: 'terminate'; reason?: string }
  | { kind: 'child-outcome'; seq: number; outcome: unknown };

export interface StoredInboxMessage {
  /** Store-assigned, increasing per run; consumed by `appendAsOwner`. */
  id: number;
  key: RunKey;
  message: InboxMessage;
}

/** How an append under a lease went. */
export type OwnedAppendResult =
  | { ok: true }
  /** The history has moved (expected eventId did not match): reload the run and try again. */
  | { ok: false; reason: 'conflict'; nextEventId: number }
  /** The lease is no longer this process's (expired and taken, or released): drop the run. */
  | { ok: false; reason: 'fenced'; holder?: string };

export interface PageRequest {
  pageSize: number;
  /** Opaque cursor from the previous page. */
  after?: string;
}

export interface RunPage {
  runs: RunSummary[];
  nextCursor?: string;
}

/** What changed in the store, for processes that wait on it (LISTEN/NOTIFY, or polling). */
export type StoreChange = { kind: 'run-due'; key: RunKey } | { kind: 'run-closed'; key: RunKey };

/**
 * The calls a store shared by several processes needs on top of `HistoryStore`. The file store is
 * the one-process case of this contract (every claim succeeds, the epoch lives with its lock);
 * PostgreSQL is the many-process case.
 */
export interface SharedHistoryStore extends HistoryStore {
  /**
   * Creates a run atomically: fails with `WorkflowExecutionAlreadyStartedError` when a run of the
   * same workflow ID is open (whatever process created it). Returns the new run's lease.
   */
  createRun(
    key: RunKey,
    events: HistoryEvent[],
    lease: { owner: string; leaseMs: number },
  ): Promise<RunLease>;
  /**
   * Appends under a lease, in one transaction with the consumption of the given inbox messages and
   * the run's next wake-up time. Never throws for conflicts or fencing: returns them.
   */
  appendAsOwner(
    lease: RunLease,
    events: HistoryEvent[],
    options?: { consumed?: number[]; wakeAt?: number | null },
  ): Promise<OwnedAppendResult>;
  /** Claims up to `limit` open runs with work due (inbox messages, a due wake-up, an expired lease). */
  claimDueRuns(owner: string, options: { limit: number; leaseMs: number }): Promise<RunLease[]>;
  /** Claims one run (to serve a request here); undefined when another live process holds it. */
  claimRun(key: RunKey, owner: string, leaseMs: number): Promise<RunLease | undefined>;
  /** Extends the leases still held; returns those (a lease missing from the answer was lost). */
  renewLeases(owner: string, leases: RunLease[], leaseMs: number): Promise<RunLease[]>;
  /** Gives a run back, to be claimed again at `wakeAt` (its next timer) or when a message arrives. */
  releaseRun(lease: RunLease, options?: { wakeAt?: number | null }): Promise<void>;
  /** Records a message for a run whoever holds it, and wakes the holder (or any process). */
  deliver(key: RunKey, message: InboxMessage): Promise<void>;
  /** The run's unconsumed messages, oldest first. */
  readInbox(key: RunKey): Promise<StoredInboxMessage[]>;
  /** Calls `listener` on changes other processes make. Returns an unsubscribe function. */
  watch(listener: (change: StoreChange) => void): () => void;
  /** Runs matching the filter, newest start first, one page at a time. */
  listRunsPage(filter: ListRunsFilter, page: PageRequest): Promise<RunPage>;
}
