import type { TraceHeader } from '../common/trace-header.js';
import type { HistoryEvent, NewEvent } from './events.js';
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
  | { kind: 'signal'; signalName: string; args: unknown[]; requestId?: string; header?: TraceHeader }
  | { kind: 'cancel'; reason?: string }
  | { kind: 'terminate'; reason?: string }
  /** A child's end for its parent: `event` is the ChildWorkflowExecutionCompleted/Failed to record. */
  | { kind: 'child-outcome'; event: NewEvent }
  /** An update for a run held by another process; the caller waits for its outcome in the history. */
  | { kind: 'update'; updateId: string; updateName: string; args: unknown[]; header?: TraceHeader }
  /**
   * An activity attempt's outcome from the server that ran it: events to record (`info`, and
   * `input` when the workflow must wake), and the last heartbeat details for a retry.
   */
  | {
      kind: 'activity-outcome';
      info?: NewEvent[];
      input?: NewEvent;
      heartbeatDetails?: unknown;
      /** When the attempt began on the server that ran it (its ActivityTaskStarted is recorded with the outcome). */
      attemptStartedAt?: number;
    };

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

/** An activity attempt any server may run; `task` is what the run's holder put there. */
export interface ActivityTask {
  id: number;
  key: RunKey;
  seq: number;
  attempt: number;
  task: unknown;
  /** The last heartbeat details a runner of this attempt renewed with (it stopped; this is a re-run). */
  heartbeatDetails?: unknown;
}

/** A server sharing the store, as it announces itself. */
export interface ServerInfo {
  owner: string;
  buildId?: string;
  host: string;
  pid: number;
  /** Where its HTTP API listens, if it has one. */
  address?: string;
}

/** A server seen recently, with how many open runs it holds now. */
export interface LiveServer extends ServerInfo {
  startedAt: string;
  lastSeen: string;
  heldRuns: number;
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
   * same workflow ID is open (whatever process created it), and with `HistoryConflictError` when
   * this very run exists. Returns the new run's lease (epoch 1). `buildId` names the code that
   * created it.
   */
  createRun(
    key: RunKey,
    events: HistoryEvent[],
    lease: { owner: string; leaseMs: number; buildId?: string },
  ): Promise<RunLease>;
  /**
   * Appends under a lease, in one transaction with the consumption of the given inbox messages and
   * the run's next wake-up time (epoch ms; `null` clears it, absent keeps it). Never throws for
   * conflicts or fencing: returns them. A lease that expired but was not taken by anyone still
   * appends (its epoch is still the run's). Throws for a malformed append or a closed run, and when
   * a message in `consumed` is not waiting (a bug: only the holder consumes). `buildId` records the
   * code that made the append.
   */
  appendAsOwner(
    lease: RunLease,
    events: HistoryEvent[],
    options?: { consumed?: number[]; wakeAt?: number | null; buildId?: string },
  ): Promise<OwnedAppendResult>;
  /**
   * Claims up to `limit` open runs with work due (inbox messages, a due wake-up, an expired lease),
   * each with its epoch raised. Never hands one run to two claimers. Due-ness and lease expiry are
   * judged by the store's clock (the database's, for PostgreSQL). Also answers the runs `owner`
   * holds (lease still valid) that have messages waiting, with their epoch unchanged and the lease
   * extended: a holder that missed a notification still hears of them.
   */
  claimDueRuns(owner: string, options: { limit: number; leaseMs: number }): Promise<RunLease[]>;
  /**
   * Claims one run (to serve a request here); undefined when another live process holds it or the
   * run is closed. The holder claiming again keeps its epoch; throws `RunNotFoundError` for no run.
   */
  claimRun(key: RunKey, owner: string, leaseMs: number): Promise<RunLease | undefined>;
  /** Extends the leases still held; returns those (a lease missing from the answer was lost). */
  renewLeases(owner: string, leases: RunLease[], leaseMs: number): Promise<RunLease[]>;
  /** Gives a run back, to be claimed again at `wakeAt` (its next timer) or when a message arrives. */
  releaseRun(lease: RunLease, options?: { wakeAt?: number | null }): Promise<void>;
  /**
   * Records a message for a run whoever holds it, and wakes the holder (or any process). Throws
   * `RunNotFoundError`, or `WorkflowNotRunningError` for a closed run (nothing would consume it).
   */
  deliver(key: RunKey, message: InboxMessage): Promise<void>;
  /** The run's unconsumed messages, oldest first. */
  readInbox(key: RunKey): Promise<StoredInboxMessage[]>;
  /**
   * Calls `listener` on changes (other processes' and this one's). A hint to look, not a log: a
   * change may be reported twice or late, so a listener reads the store before acting. Returns an
   * unsubscribe function.
   */
  watch(listener: (change: StoreChange) => void): () => void;
  /** Offers an activity attempt to every server (once per run, seq and attempt; a repeat is ignored). */
  enqueueActivityTask(key: RunKey, task: { seq: number; attempt: number; task: unknown }): Promise<void>;
  /** Takes up to `limit` waiting attempts, or attempts whose runner stopped renewing (SKIP LOCKED). */
  claimActivityTasks(owner: string, options: { limit: number; leaseMs: number }): Promise<ActivityTask[]>;
  /** Extends the runner's hold on an attempt; says whether it still holds it and whether it was cancelled. */
  renewActivityTask(
    id: number,
    owner: string,
    leaseMs: number,
    heartbeatDetails?: unknown,
  ): Promise<{ held: boolean; cancelRequested: boolean }>;
  /**
   * Ends an attempt: in one transaction the task goes and `message` goes to its run's inbox, only if
   * `owner` still holds the task (false otherwise: another server runs it now; the outcome is dropped).
   */
  finishActivityTask(id: number, owner: string, message: InboxMessage): Promise<boolean>;
  /**
   * The run's holder cancels an attempt: a waiting one is removed (`'waiting'`), a running one is
   * marked so its runner aborts it (`'running'`); `'none'` when there is no such task.
   */
  cancelActivityTask(key: RunKey, seq: number): Promise<'waiting' | 'running' | 'none'>;
  /** Announces this server (again): called at start and with every lease renewal. */
  heartbeatServer(server: ServerInfo): Promise<void>;
  /** Forgets a server that stops. */
  removeServer(owner: string): Promise<void>;
  /** The servers seen within the last `aliveWithinMs`, oldest start first. */
  listServers(aliveWithinMs: number): Promise<LiveServer[]>;
  /** Runs matching the filter, newest start first, one page at a time. */
  listRunsPage(filter: ListRunsFilter, page: PageRequest): Promise<RunPage>;
}
