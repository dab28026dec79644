/**
 * History format v1: the one definition of every event a run's history may hold.
 *
 * A history is a JSON Lines file, one event per line. Every event has `eventId` (1, 2, 3... with no
 * gaps), `eventTime` (ISO-8601, the time the engine recorded it) and `type`. The first event is always
 * `WorkflowExecutionStarted` and carries `formatVersion`. See docs/history-format.md.
 */

import type { FailureInfo, TimeoutType } from '../common/failure-info.js';
import { CLOSING_STATUS, type RunStatus } from '../common/run-status.js';
import type { TraceHeader } from '../common/trace-header.js';

export const HISTORY_FORMAT_VERSION = 1;

/** FailureInfo (a serialized error) and TimeoutType live in the bottom layer; they are part of this format. */
export type { FailureInfo, TimeoutType } from '../common/failure-info.js';
/** W3C trace context, as the optional `header` of WorkflowExecutionStarted. */
export type { TraceHeader } from '../common/trace-header.js';

/** Where in the user's source a command was issued (resolved through the bundle's source map). */
export interface CallSite {
  file: string;
  line: number;
  column: number;
}

export interface RetryPolicyRecord {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  /** 0 means unlimited. */
  maximumAttempts: number;
  nonRetryableErrorTypes: string[];
}

export interface ActivityOptionsRecord {
  startToCloseTimeoutMs?: number;
  scheduleToCloseTimeoutMs?: number;
  heartbeatTimeoutMs?: number;
  retry: RetryPolicyRecord;
  /** Absent: TRY_CANCEL (every history recorded before wf took the option). */
  cancellationType?: ActivityCancellationTypeRecord;
}

export type ActivityCancellationTypeRecord = 'TRY_CANCEL' | 'WAIT_CANCELLATION_COMPLETED' | 'ABANDON';

export const WORKFLOW_ID_REUSE_POLICIES = [
  'ALLOW_DUPLICATE',
  'ALLOW_DUPLICATE_FAILED_ONLY',
  'REJECT_DUPLICATE',
] as const;
export type WorkflowIdReusePolicy = (typeof WORKFLOW_ID_REUSE_POLICIES)[number];
export const WORKFLOW_ID_CONFLICT_POLICIES = ['FAIL', 'USE_EXISTING'] as const;
export type WorkflowIdConflictPolicy = (typeof WORKFLOW_ID_CONFLICT_POLICIES)[number];
export type ParentClosePolicy = 'TERMINATE' | 'ABANDON' | 'REQUEST_CANCEL';

interface Base {
  eventId: number;
  eventTime: string;
  /**
   * On an input event (and on WorkflowExecutionStarted): how many command events the activation it
   * caused recorded right after it. Absent when the activation is not recorded with it (a signal to
   * a paused run) and in histories written before wf recorded it. Replay uses it to report a command
   * added where an open run waits, instead of taking it.
   */
  commandCount?: number;
}

export interface WorkflowExecutionStarted extends Base {
  type: 'WorkflowExecutionStarted';
  formatVersion: number;
  workflowType: string;
  workflowId: string;
  runId: string;
  args: unknown[];
  /** Seed for Math.random and uuid4 inside the sandbox. */
  randomnessSeed: string;
  attempt: number;
  /** Run timeout in ms, if any. */
  runTimeoutMs?: number;
  /** Set when this run was started by `continueAsNew` from the previous run. */
  continuedFromRunId?: string;
  parent?: { workflowId: string; runId: string; seq: number };
  /** Run ID of the first run in a continue-as-new chain. */
  firstRunId: string;
  memo?: Record<string, unknown>;
  /** Search attributes given at start (listing filters on them). */
  searchAttributes?: SearchAttributes;
  /**
   * W3C trace context of the span that caused this run: the client's `StartWorkflow`, the parent's
   * `StartChildWorkflowExecution`, or the previous run's `RunWorkflow` (continue-as-new). Absent when
   * nobody traced the start. Every span of the run is derived from it and the run ID (docs/observability.md).
   */
  header?: TraceHeader;
}

export interface ActivityTaskScheduled extends Base {
  type: 'ActivityTaskScheduled';
  seq: number;
  activityId: string;
  activityType: string;
  args: unknown[];
  options: ActivityOptionsRecord;
  callSite?: CallSite;
}

export interface ActivityTaskStarted extends Base {
  type: 'ActivityTaskStarted';
  seq: number;
  attempt: number;
  /**
   * The activity threw CompleteAsyncError: the attempt waits to be completed by its task token
   * (recorded on its own, before the outcome; a restart waits on instead of running it again).
   */
  asyncCompletion?: true;
}

export interface ActivityTaskCompleted extends Base {
  type: 'ActivityTaskCompleted';
  seq: number;
  attempt: number;
  result: unknown;
}

/** An attempt failed. With `nextRetryDelayMs` a retry follows; without it this is the final outcome. */
export interface ActivityTaskFailed extends Base {
  type: 'ActivityTaskFailed';
  seq: number;
  attempt: number;
  failure: FailureInfo;
  nextRetryDelayMs?: number;
}

/** An attempt timed out. With `nextRetryDelayMs` a retry follows; without it this is the final outcome. */
export interface ActivityTaskTimedOut extends Base {
  type: 'ActivityTaskTimedOut';
  seq: number;
  attempt: number;
  timeoutType: TimeoutType;
  nextRetryDelayMs?: number;
  lastFailure?: FailureInfo;
}

export interface ActivityTaskCancelRequested extends Base {
  type: 'ActivityTaskCancelRequested';
  seq: number;
}

export interface ActivityTaskCanceled extends Base {
  type: 'ActivityTaskCanceled';
  seq: number;
}

export interface TimerStarted extends Base {
  type: 'TimerStarted';
  seq: number;
  durationMs: number;
  /** Absolute deadline: eventTime + durationMs. A restart fires it at this time, never earlier. */
  fireAt: string;
  summary?: string;
  callSite?: CallSite;
}

export interface TimerFired extends Base {
  type: 'TimerFired';
  seq: number;
}

export interface TimerCanceled extends Base {
  type: 'TimerCanceled';
  seq: number;
}

export interface WorkflowSignaled extends Base {
  type: 'WorkflowSignaled';
  signalName: string;
  args: unknown[];
  /** Signal-with-start: delivered in the run's first activation, together with the start. */
  withStart?: boolean;
  /** Set by the sender to make delivery idempotent: a second signal with the same ID is not recorded. */
  requestId?: string;
  /** W3C trace context of the sender's span (a client's `SignalWorkflow`, a workflow's `SignalExternalWorkflow`). */
  header?: TraceHeader;
}

export interface WorkflowUpdateAccepted extends Base {
  type: 'WorkflowUpdateAccepted';
  updateId: string;
  updateName: string;
  args: unknown[];
  /** W3C trace context of the caller's `UpdateWorkflow` span. */
  header?: TraceHeader;
}

export interface WorkflowUpdateCompleted extends Base {
  type: 'WorkflowUpdateCompleted';
  updateId: string;
  result?: unknown;
  failure?: FailureInfo;
}

/** An update refused by its validator: recorded for visibility, it never reaches the workflow. */
export interface WorkflowUpdateRejected extends Base {
  type: 'WorkflowUpdateRejected';
  updateId: string;
  updateName: string;
  failure: FailureInfo;
}

/**
 * Search attributes the workflow set (`upsertSearchAttributes`): merged over the run's earlier ones;
 * a key with an empty list is removed. Listing filters on them (`wf list --query`).
 */
import type { SearchAttributes } from '../common/search-attributes.js';

export type { SearchAttributes, SearchAttributeValue } from '../common/search-attributes.js';

export interface UpsertWorkflowSearchAttributes extends Base {
  type: 'UpsertWorkflowSearchAttributes';
  searchAttributes: SearchAttributes;
  callSite?: CallSite;
}

export interface MarkerRecorded extends Base {
  type: 'MarkerRecorded';
  markerName: 'patch';
  patchId: string;
  deprecated: boolean;
  callSite?: CallSite;
}

export interface ChildWorkflowExecutionStarted extends Base {
  type: 'ChildWorkflowExecutionStarted';
  seq: number;
  workflowType: string;
  workflowId: string;
  /** Filled in once the child run exists; absent if the start itself failed. */
  runId?: string;
  args: unknown[];
  parentClosePolicy: ParentClosePolicy;
  callSite?: CallSite;
}

/** The workflow asked for a child's cancellation (its scope was cancelled). The child decides how it ends. */
export interface ChildWorkflowExecutionCancelRequested extends Base {
  type: 'ChildWorkflowExecutionCancelRequested';
  seq: number;
}

export interface ChildWorkflowExecutionCompleted extends Base {
  type: 'ChildWorkflowExecutionCompleted';
  seq: number;
  result: unknown;
}

export interface ChildWorkflowExecutionFailed extends Base {
  type: 'ChildWorkflowExecutionFailed';
  seq: number;
  failure: FailureInfo;
}

/** The workflow sends a signal to another workflow (or its child). */
export interface SignalExternalWorkflowExecutionInitiated extends Base {
  type: 'SignalExternalWorkflowExecutionInitiated';
  seq: number;
  workflowId: string;
  runId?: string;
  signalName: string;
  args: unknown[];
  callSite?: CallSite;
}

/** The signal was recorded in the other workflow's history. */
export interface ExternalWorkflowExecutionSignaled extends Base {
  type: 'ExternalWorkflowExecutionSignaled';
  seq: number;
}

/** The signal could not be delivered (no such workflow, or it is closed). */
export interface SignalExternalWorkflowExecutionFailed extends Base {
  type: 'SignalExternalWorkflowExecutionFailed';
  seq: number;
  failure: FailureInfo;
}

/** The workflow asks another workflow to cancel (`getExternalWorkflowHandle(id).cancel()`). */
export interface RequestCancelExternalWorkflowExecutionInitiated extends Base {
  type: 'RequestCancelExternalWorkflowExecutionInitiated';
  seq: number;
  workflowId: string;
  runId?: string;
  callSite?: CallSite;
}

/** The cancel request was recorded in the other workflow's history. */
export interface ExternalWorkflowExecutionCancelRequested extends Base {
  type: 'ExternalWorkflowExecutionCancelRequested';
  seq: number;
}

/** The cancel request could not be delivered (no such workflow, or it is closed). */
export interface RequestCancelExternalWorkflowExecutionFailed extends Base {
  type: 'RequestCancelExternalWorkflowExecutionFailed';
  seq: number;
  failure: FailureInfo;
}

export interface WorkflowExecutionCancelRequested extends Base {
  type: 'WorkflowExecutionCancelRequested';
  reason?: string;
}

export interface WorkflowExecutionCompleted extends Base {
  type: 'WorkflowExecutionCompleted';
  result: unknown;
}

export interface WorkflowExecutionFailed extends Base {
  type: 'WorkflowExecutionFailed';
  failure: FailureInfo;
}

export interface WorkflowExecutionCanceled extends Base {
  type: 'WorkflowExecutionCanceled';
}

export interface WorkflowExecutionTerminated extends Base {
  type: 'WorkflowExecutionTerminated';
  reason?: string;
}

export interface WorkflowExecutionTimedOut extends Base {
  type: 'WorkflowExecutionTimedOut';
}

export interface WorkflowExecutionContinuedAsNew extends Base {
  type: 'WorkflowExecutionContinuedAsNew';
  newRunId: string;
  workflowType: string;
  args: unknown[];
}

export type HistoryEvent =
  | WorkflowExecutionStarted
  | ActivityTaskScheduled
  | ActivityTaskStarted
  | ActivityTaskCompleted
  | ActivityTaskFailed
  | ActivityTaskTimedOut
  | ActivityTaskCancelRequested
  | ActivityTaskCanceled
  | TimerStarted
  | TimerFired
  | TimerCanceled
  | WorkflowSignaled
  | WorkflowUpdateAccepted
  | WorkflowUpdateCompleted
  | WorkflowUpdateRejected
  | MarkerRecorded
  | UpsertWorkflowSearchAttributes
  | ChildWorkflowExecutionStarted
  | ChildWorkflowExecutionCancelRequested
  | ChildWorkflowExecutionCompleted
  | ChildWorkflowExecutionFailed
  | SignalExternalWorkflowExecutionInitiated
  | ExternalWorkflowExecutionSignaled
  | SignalExternalWorkflowExecutionFailed
  | RequestCancelExternalWorkflowExecutionInitiated
  | ExternalWorkflowExecutionCancelRequested
  | RequestCancelExternalWorkflowExecutionFailed
  | WorkflowExecutionCancelRequested
  | WorkflowExecutionCompleted
  | WorkflowExecutionFailed
  | WorkflowExecutionCanceled
  | WorkflowExecutionTerminated
  | WorkflowExecutionTimedOut
  | WorkflowExecutionContinuedAsNew;

export type EventType = HistoryEvent['type'];

/** An event before the store numbers and stamps it. */
export type NewEvent = HistoryEvent extends infer E
  ? E extends HistoryEvent
    ? Omit<E, 'eventId' | 'eventTime'> & { eventTime?: string }
    : never
  : never;

export type EventOf<T extends EventType> = Extract<HistoryEvent, { type: T }>;

/** Events that close a run: nothing may follow them. */
export const CLOSING_EVENT_TYPES = new Set<EventType>([
  'WorkflowExecutionCompleted',
  'WorkflowExecutionFailed',
  'WorkflowExecutionCanceled',
  'WorkflowExecutionTerminated',
  'WorkflowExecutionTimedOut',
  'WorkflowExecutionContinuedAsNew',
]);

export { RUN_STATUSES, type RunStatus } from '../common/run-status.js';

export function statusOfClosingEvent(type: EventType): RunStatus | undefined {
  return Object.hasOwn(CLOSING_STATUS, type) ? CLOSING_STATUS[type] : undefined;
}
