import type { CallSite, FailureInfo, WorkflowExecutionStarted } from '../../history/events.js';
import type { RunLease } from '../../history/shared-store.js';
import type { RunKey } from '../../history/store.js';
import type { WorkflowOutcome } from '../../protocol/service.js';
import type { TimerHandle } from '../clock.js';
import type { RunExecutor } from '../executor.js';
import type { LazyAbortController } from './lazy-abort.js';
import type { UpdateWaiter, Work } from './types.js';

/** One attempt of an activity in flight (or sleeping in `Context.sleep`). */
export interface ActivityAttempt {
  seq: number;
  attempt: number;
  controller: LazyAbortController;
  finished: boolean;
  sleeping: number;
  heartbeatTimer?: TimerHandle;
  deadlineTimer?: TimerHandle;
  /** Set once the activity threw CompleteAsyncError: the attempt waits to be completed by its task token. */
  awaiting?: AwaitingCompletion;
}

/** An attempt waiting for async completion: what the task token's holder may do to it. */
export interface AwaitingCompletion {
  activityId: string;
  /** Records the result; resolves once it is durable. */
  complete(result: unknown): Promise<void>;
  /** Records a failed attempt (retried per the policy); resolves once it is durable. */
  fail(failure: FailureInfo): Promise<void>;
  /** Keeps the heartbeat timeout from firing; `details` reach the next attempt. */
  heartbeat(details: unknown): void;
}

/**
 * What a held run keeps of its WorkflowExecutionStarted: everything but the input, which only the
 * executor needs (and the history holds); a waiting run evicted from the cache keeps no payload.
 */
export type RunStarted = Omit<WorkflowExecutionStarted, 'args'>;

/** A run this process holds: its executor (when cached), its mailbox and the effects it has armed. */
export interface RunEntry {
  readonly key: RunKey;
  readonly workflowType: string;
  executor?: RunExecutor;
  started: RunStarted;
  readonly mailbox: Work[];
  /** True while one activation (or a load) holds the run's slot. */
  processing: boolean;
  readonly slotWaiters: (() => void)[];
  closed: boolean;
  paused?: string;
  pausedAt?: CallSite;
  readonly resultWaiters: ((outcome: WorkflowOutcome) => void)[];
  /** Callers waiting on each update ID (a retried ID joins the callers already waiting). */
  readonly updateWaiters: Map<string, UpdateWaiter[]>;
  readonly timers: Map<number, TimerHandle>;
  readonly retryTimers: Map<number, TimerHandle>;
  readonly attempts: Map<number, ActivityAttempt>;
  readonly heartbeats: Map<number, unknown>;
  /** Signals and cancel requests to other workflows being delivered now (signals by seq, cancels by -seq). */
  readonly messagesInFlight: Set<number>;
  runTimeout?: TimerHandle;
  /** This process's lease on the run, when the store is shared. */
  lease?: RunLease;
  /** Inbox messages already queued here (shared stores), so a second look does not queue them twice. */
  inboxQueued?: Set<number>;
  /** Set when the run was taken by another process (fenced) or handed back: nothing more happens here. */
  dropped?: boolean;
  /** Lets go of empty collections (the run was evicted and waits). */
  compact?(): void;
}

export function newRunEntry(started: WorkflowExecutionStarted): RunEntry {
  return new HeldRun(started);
}

/**
 * A RunEntry whose collections are made on first use: most held runs wait with none of them, and
 * ten thousand waiting runs should cost little more than their keys.
 */
class HeldRun implements RunEntry {
  readonly key: RunKey;
  readonly workflowType: string;
  executor?: RunExecutor;
  started: RunStarted;
  processing = false;
  closed = false;
  paused?: string;
  pausedAt?: CallSite;
  runTimeout?: TimerHandle;
  lease?: RunLease;
  inboxQueued?: Set<number>;
  dropped?: boolean;
  private lazy: {
    mailbox?: Work[];
    slotWaiters?: (() => void)[];
    resultWaiters?: ((outcome: WorkflowOutcome) => void)[];
    updateWaiters?: Map<string, UpdateWaiter[]>;
    timers?: Map<number, TimerHandle>;
    retryTimers?: Map<number, TimerHandle>;
    attempts?: Map<number, ActivityAttempt>;
    heartbeats?: Map<number, unknown>;
    messagesInFlight?: Set<number>;
  } = {};

  constructor(started: WorkflowExecutionStarted) {
    this.key = { workflowId: started.workflowId, runId: started.runId };
    this.workflowType = started.workflowType;
    const { args: _input, ...kept } = started;
    this.started = kept;
  }

  compact(): void {
    for (const [name, value] of Object.entries(this.lazy) as [
      keyof HeldRun['lazy'],
      { length?: number; size?: number },
    ][]) {
      if ((value.length ?? value.size) === 0) delete this.lazy[name];
    }
  }

  get mailbox(): Work[] {
    this.lazy.mailbox ??= [];
    return this.lazy.mailbox;
  }
  get slotWaiters(): (() => void)[] {
    this.lazy.slotWaiters ??= [];
    return this.lazy.slotWaiters;
  }
  get resultWaiters(): ((outcome: WorkflowOutcome) => void)[] {
    this.lazy.resultWaiters ??= [];
    return this.lazy.resultWaiters;
  }
  get updateWaiters(): Map<string, UpdateWaiter[]> {
    this.lazy.updateWaiters ??= new Map();
    return this.lazy.updateWaiters;
  }
  get timers(): Map<number, TimerHandle> {
    this.lazy.timers ??= new Map();
    return this.lazy.timers;
  }
  get retryTimers(): Map<number, TimerHandle> {
    this.lazy.retryTimers ??= new Map();
    return this.lazy.retryTimers;
  }
  get attempts(): Map<number, ActivityAttempt> {
    this.lazy.attempts ??= new Map();
    return this.lazy.attempts;
  }
  get heartbeats(): Map<number, unknown> {
    this.lazy.heartbeats ??= new Map();
    return this.lazy.heartbeats;
  }
  get messagesInFlight(): Set<number> {
    this.lazy.messagesInFlight ??= new Set();
    return this.lazy.messagesInFlight;
  }
}

export function runKeyString(key: RunKey): string {
  return `${key.workflowId}\u0000${key.runId}`;
}

/** The run's cached executor, unless its code was lost with a stopped workflow thread. */
export function liveExecutor(entry: RunEntry): RunExecutor | undefined {
  return entry.executor?.sandboxLost ? undefined : entry.executor;
}
