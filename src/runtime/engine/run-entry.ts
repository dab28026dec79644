import type { CallSite, FailureInfo, WorkflowExecutionStarted } from '../../history/events.js';
import type { RunLease } from '../../history/shared-store.js';
import type { RunKey } from '../../history/store.js';
import type { WorkflowOutcome } from '../../protocol/service.js';
import type { TimerHandle } from '../clock.js';
import type { RunExecutor } from '../executor.js';
import type { UpdateWaiter, Work } from './types.js';

/** One attempt of an activity in flight (or sleeping in `Context.sleep`). */
export interface ActivityAttempt {
  seq: number;
  attempt: number;
  controller: AbortController;
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

/** A run this process holds: its executor (when cached), its mailbox and the effects it has armed. */
export interface RunEntry {
  key: RunKey;
  workflowType: string;
  executor?: RunExecutor;
  started: WorkflowExecutionStarted;
  mailbox: Work[];
  /** True while one activation (or a load) holds the run's slot. */
  processing: boolean;
  slotWaiters: (() => void)[];
  closed: boolean;
  paused?: string;
  pausedAt?: CallSite;
  resultWaiters: ((outcome: WorkflowOutcome) => void)[];
  /** Callers waiting on each update ID (a retried ID joins the callers already waiting). */
  updateWaiters: Map<string, UpdateWaiter[]>;
  timers: Map<number, TimerHandle>;
  retryTimers: Map<number, TimerHandle>;
  attempts: Map<number, ActivityAttempt>;
  heartbeats: Map<number, unknown>;
  /** Signals and cancel requests to other workflows being delivered now (signals by seq, cancels by -seq). */
  messagesInFlight: Set<number>;
  runTimeout?: TimerHandle;
  /** This process's lease on the run, when the store is shared. */
  lease?: RunLease;
  /** Inbox messages already queued here (shared stores), so a second look does not queue them twice. */
  inboxQueued?: Set<number>;
  /** Set when the run was taken by another process (fenced) or handed back: nothing more happens here. */
  dropped?: boolean;
}

export function newRunEntry(started: WorkflowExecutionStarted): RunEntry {
  return {
    key: { workflowId: started.workflowId, runId: started.runId },
    workflowType: started.workflowType,
    started,
    mailbox: [],
    processing: false,
    slotWaiters: [],
    closed: false,
    resultWaiters: [],
    updateWaiters: new Map(),
    timers: new Map(),
    retryTimers: new Map(),
    attempts: new Map(),
    heartbeats: new Map(),
    messagesInFlight: new Set(),
  };
}

export function runKeyString(key: RunKey): string {
  return `${key.workflowId}\u0000${key.runId}`;
}

/** The run's cached executor, unless its code was lost with a stopped workflow thread. */
export function liveExecutor(entry: RunEntry): RunExecutor | undefined {
  return entry.executor?.sandboxLost ? undefined : entry.executor;
}
