import type {
  ScheduleActionResult,
  ScheduleDefinition,
  ScheduleDescription,
  ScheduleOverlapPolicy,
} from '../common/schedules.js';
import type { SearchAttributes } from '../common/search-attributes.js';
import type { TraceHeader } from '../common/trace-header.js';
/**
 * The service protocol: every request and answer a client exchanges with an engine, as types only.
 * The in-process engine (src/runtime) implements `WorkflowService`, the HTTP server exposes it and
 * the client (src/client, used by users' applications) calls it, so it sits below all three.
 */

import type {
  CallSite,
  FailureInfo,
  HistoryEvent,
  RunStatus,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
} from '../history/events.js';
import type { ListRunsFilter, RunSummary } from '../history/store.js';

export interface StartWorkflowRequest {
  workflowType: string;
  workflowId: string;
  args?: unknown[];
  /** Fails the run with a timeout once this long has passed since it started. */
  runTimeoutMs?: number;
  /** What to do when a closed run with this ID exists. Default ALLOW_DUPLICATE, as in Temporal. */
  workflowIdReusePolicy?: WorkflowIdReusePolicy;
  /** What to do when an open run with this ID exists. Default FAIL, as in Temporal. */
  workflowIdConflictPolicy?: WorkflowIdConflictPolicy;
  memo?: Record<string, unknown>;
  /** Search attributes of the run (`wf list --query` filters on them), each a list of values. */
  searchAttributes?: SearchAttributes;
  /**
   * Signal-with-start: deliver this signal to the workflow, starting it first if no run of the ID is
   * open (an open run is signalled whatever the conflict policy says). The signal is durable when
   * the call returns.
   */
  signal?: { name: string; args?: unknown[] };
  /**
   * The caller's W3C trace context (the client's `StartWorkflow` span): recorded on the run's
   * WorkflowExecutionStarted, so that its spans join the caller's trace. A malformed one is dropped.
   */
  header?: TraceHeader;
}

export interface StartWorkflowResponse {
  workflowId: string;
  runId: string;
  /** False when USE_EXISTING returned an open run instead of starting one. */
  started: boolean;
}

/** The outcome of a closed run. */
export type WorkflowOutcome =
  | { status: 'COMPLETED'; result: unknown }
  | { status: 'FAILED'; failure: FailureInfo }
  | { status: 'CANCELED' }
  | { status: 'TERMINATED'; reason?: string }
  | { status: 'TIMED_OUT' }
  | { status: 'CONTINUED_AS_NEW'; newRunId: string };

export interface RunDescription extends RunSummary {
  /** Activities scheduled and not yet resolved, with their latest attempt. */
  /** Activities scheduled and not yet resolved, with their latest attempt and where the code awaits them. */
  pendingActivities: {
    seq: number;
    activityType: string;
    attempt: number;
    lastFailure?: FailureInfo;
    callSite?: CallSite;
  }[];
  pendingTimers: { seq: number; fireAt: string; callSite?: CallSite }[];
  /** Set when the run is paused (its code no longer replays its history, or it failed to load). */
  paused?: {
    reason: string /** Where the current code diverged from the history, if it did. */;
    callSite?: CallSite;
  };
}

export interface ListRequest extends ListRunsFilter {
  pageSize?: number;
  nextPageToken?: string;
  /**
   * A filter in Temporal's list syntax (the subset wf supports): `CustomerId = "c-1" AND
   * ExecutionStatus = "Running"`, over WorkflowId, RunId, WorkflowType, ExecutionStatus, StartTime,
   * CloseTime and search attributes.
   */
  query?: string;
}

export interface ListResponse {
  runs: RunSummary[];
  nextPageToken?: string;
}

export interface ResultRequest {
  workflowId: string;
  runId?: string;
  /** Follow continue-as-new to the last run of the chain (default true). */
  followRuns?: boolean;
  /** Give up waiting after this long; the call then rejects with a timeout error. */
  waitTimeoutMs?: number;
}

export interface EventNotice {
  workflowId: string;
  runId: string;
  event: HistoryEvent;
}

/** A timer fired by hand (`wf timer fire`). */
export interface FiredTimer {
  workflowId: string;
  runId: string;
  seq: number;
  /** The deadline the timer had (ISO 8601). */
  fireAt: string;
  /** When it fired, in the engine's time (ISO 8601). */
  firedAt: string;
}

/** The dev server's time: real time plus the offset skipped with `wf time skip`. */
export interface TimeInfo {
  /** The server's current time (ISO 8601), as workflows see it. */
  now: string;
  /** How far the server's clock is ahead of real time, in milliseconds (0 unless skipped). */
  offsetMs: number;
}

/**
 * Time control of a dev server: skip its clock forward, fire a run's timer early. Not part of
 * WorkflowService: only a server that owns its clock (`wf dev`) offers it.
 */
export interface TimeControl {
  currentTime(): Promise<TimeInfo>;
  /** Moves the clock forward by `ms` (persisted, so a restart keeps it); due timers fire at once. */
  skipTime(ms: number): Promise<TimeInfo>;
  /** Fires a pending timer of an open run now: the earliest one, or the one numbered `seq`. */
  fireTimer(ref: RunRef, seq?: number): Promise<FiredTimer>;
}

/**
 * Async completion of activities by task token (`client.activity.*`): for an attempt whose activity
 * threw CompleteAsyncError. Tokens travel as base64 (`activityInfo().base64TaskToken`).
 */
export interface ActivityCompletionService {
  /** Records the attempt's result; resolves once it is durable. */
  completeActivity(req: { taskToken: string; result?: unknown }): Promise<void>;
  /** Records the attempt's failure (retried per the activity's policy); resolves once it is durable. */
  failActivity(req: { taskToken: string; failure: FailureInfo }): Promise<void>;
  /** Keeps the attempt's heartbeat timeout from firing; `details` reach a later attempt. */
  heartbeatActivity(req: { taskToken: string; details?: unknown }): Promise<void>;
}

/** A run addressed by workflow ID; the latest run when runId is absent. */
export interface RunRef {
  workflowId: string;
  runId?: string;
}

/**
 * Everything a client can ask of an engine. The in-process engine implements it, the HTTP server
 * exposes it, and the HTTP transport implements it again on the client side: one client over both.
 */
export interface WorkflowService {
  startWorkflow(req: StartWorkflowRequest): Promise<StartWorkflowResponse>;
  /**
   * Starts the workflow and, in the same call, waits a while for the run to close (a transport's
   * way to save `execute` a second round trip). `outcome` is absent while the run still runs.
   * Optional: without it, a client starts and then waits for the result.
   */
  startWorkflowAndWait?(
    req: StartWorkflowRequest,
  ): Promise<StartWorkflowResponse & { outcome?: WorkflowOutcome }>;
  describe(ref: RunRef): Promise<RunDescription>;
  list(req?: ListRequest): Promise<ListResponse>;
  history(ref: RunRef): Promise<HistoryEvent[]>;
  /**
   * Records a signal. With a `requestId`, a repeat of the same request (a retry after a timeout, a
   * re-send after a crash) is recorded once.
   */
  signal(
    ref: RunRef,
    signalName: string,
    args: unknown[],
    requestId?: string,
    header?: TraceHeader,
  ): Promise<void>;
  query(ref: RunRef, queryName: string, args: unknown[]): Promise<unknown>;
  /**
   * Runs an update to completion and returns its result; rejects with its failure or validation
   * error. `header`: the caller's W3C trace context, recorded on WorkflowUpdateAccepted.
   */
  update(
    ref: RunRef,
    updateName: string,
    args: unknown[],
    updateId?: string,
    header?: TraceHeader,
  ): Promise<unknown>;
  cancel(ref: RunRef, reason?: string): Promise<void>;
  terminate(ref: RunRef, reason?: string): Promise<void>;
  /** Waits for the run to close and returns how it closed. */
  result(req: ResultRequest): Promise<WorkflowOutcome>;
  /** Calls `listener` for every event appended from now on. Returns an unsubscribe function. */
  subscribe(listener: (notice: EventNotice) => void): () => void;
  /** The servers working on the store, with the build of the code each runs. */
  cluster(): Promise<ClusterInfo>;
}

/** One server working on the store. */
export interface ServerView {
  /** Its name in the leases of a shared store. */
  owner: string;
  /** The build of the workflow code it runs (a hash of its bundle). */
  buildId?: string;
  host: string;
  pid: number;
  startedAt?: string;
  lastSeen?: string;
  /** Open runs it holds now. */
  heldRuns: number;
}

/** `single`: one process owns the store (a directory); `shared`: every server on one database. */
export interface ClusterInfo {
  store: 'single' | 'shared';
  servers: ServerView[];
}

export type { CallSite, FailureInfo, HistoryEvent, RunStatus, RunSummary };

/** Temporal-style schedules, on servers whose store keeps them. */
export interface ScheduleService {
  createSchedule(definition: ScheduleDefinition): Promise<ScheduleDescription>;
  describeSchedule(scheduleId: string): Promise<ScheduleDescription>;
  listSchedules(): Promise<ScheduleDescription[]>;
  pauseSchedule(scheduleId: string, note?: string): Promise<ScheduleDescription>;
  unpauseSchedule(scheduleId: string, note?: string): Promise<ScheduleDescription>;
  /** Takes the schedule's action now (under `overlap`, default the schedule's policy). */
  triggerSchedule(scheduleId: string, overlap?: ScheduleOverlapPolicy): Promise<ScheduleActionResult>;
  /** Takes the action for every fire time in the range (ISO times), as if the schedule had run then. */
  backfillSchedule(
    scheduleId: string,
    range: { startAt: string; endAt: string; overlap?: ScheduleOverlapPolicy },
  ): Promise<ScheduleActionResult[]>;
  deleteSchedule(scheduleId: string): Promise<void>;
}
