/**
 * A history grouped the way people read it: one row per activity, timer, child workflow, update,
 * signal or external request, each with its events, its span and (activities) its attempts.
 */
import type { FailureInfo, HistoryEvent } from '../protocol/service.js';

export type RowKind =
  | 'workflow'
  | 'activity'
  | 'timer'
  | 'child'
  | 'update'
  | 'signal'
  | 'external'
  | 'marker';
export type RowState = 'ok' | 'failed' | 'retrying' | 'open' | 'canceled' | 'info';

export interface Attempt {
  attempt: number;
  start: number;
  end?: number;
  outcome: 'running' | 'completed' | 'failed' | 'timed-out' | 'canceled';
  failure?: FailureInfo;
}

export interface TimelineRow {
  key: string;
  kind: RowKind;
  label: string;
  start: number;
  /** Absent while the step is open. */
  end?: number;
  state: RowState;
  attempts: Attempt[];
  events: HistoryEvent[];
  /** An ID that links elsewhere (a child's run). */
  child?: { workflowId: string; runId?: string };
  /** An activity's, timer's or child's sequence number in the run. */
  seq?: number;
  /** When the next attempt of an activity starts, if it waits to retry. */
  nextRetryAt?: number;
}

export interface Timeline {
  rows: TimelineRow[];
  start: number;
  /** The last event's time (the axis runs to `now` while the run is open). */
  end: number;
}

export function buildTimeline(events: readonly HistoryEvent[]): Timeline {
  const rows: TimelineRow[] = [];
  const byKey = new Map<string, TimelineRow>();
  const time = (e: HistoryEvent) => Date.parse(e.eventTime);
  const add = (key: string, kind: RowKind, label: string, e: HistoryEvent, state: RowState): TimelineRow => {
    const row: TimelineRow = { key, kind, label, start: time(e), state, attempts: [], events: [e] };
    rows.push(row);
    byKey.set(key, row);
    return row;
  };
  const close = (key: string, e: HistoryEvent, state: RowState) => {
    const row = byKey.get(key);
    if (!row) return undefined;
    row.events.push(e);
    row.end = time(e);
    row.state = state;
    return row;
  };
  const attemptOf = (row: TimelineRow, n: number) => row.attempts.find((a) => a.attempt === n);

  for (const e of events) {
    switch (e.type) {
      case 'WorkflowExecutionStarted':
        add('workflow', 'workflow', e.workflowType, e, 'open');
        break;
      case 'WorkflowExecutionCompleted':
        close('workflow', e, 'ok');
        break;
      case 'WorkflowExecutionFailed':
      case 'WorkflowExecutionTimedOut':
        close('workflow', e, 'failed');
        break;
      case 'WorkflowExecutionCanceled':
      case 'WorkflowExecutionTerminated':
        close('workflow', e, 'canceled');
        break;
      case 'WorkflowExecutionContinuedAsNew':
        close('workflow', e, 'ok');
        break;
      case 'WorkflowExecutionCancelRequested':
        byKey.get('workflow')?.events.push(e);
        break;
      case 'ActivityTaskScheduled':
        add(`activity-${e.seq}`, 'activity', e.activityType, e, 'open').seq = e.seq;
        break;
      case 'ActivityTaskStarted': {
        const row = byKey.get(`activity-${e.seq}`);
        if (!row) break;
        row.events.push(e);
        row.state = 'open';
        row.nextRetryAt = undefined;
        row.attempts.push({ attempt: e.attempt, start: time(e), outcome: 'running' });
        break;
      }
      case 'ActivityTaskCompleted': {
        const row = close(`activity-${e.seq}`, e, 'ok');
        const a = row && attemptOf(row, e.attempt);
        if (a) Object.assign(a, { end: time(e), outcome: 'completed' });
        break;
      }
      case 'ActivityTaskFailed':
      case 'ActivityTaskTimedOut': {
        const key = `activity-${e.seq}`;
        const row = byKey.get(key);
        if (!row) break;
        const failure = e.type === 'ActivityTaskFailed' ? e.failure : e.lastFailure;
        const a = attemptOf(row, e.attempt);
        if (a) {
          a.end = time(e);
          a.outcome = e.type === 'ActivityTaskFailed' ? 'failed' : 'timed-out';
          if (failure) a.failure = failure;
        }
        if (e.nextRetryDelayMs === undefined) close(key, e, 'failed');
        else {
          row.events.push(e);
          row.state = 'retrying';
          row.nextRetryAt = time(e) + e.nextRetryDelayMs;
        }
        break;
      }
      case 'ActivityTaskCancelRequested':
        byKey.get(`activity-${e.seq}`)?.events.push(e);
        break;
      case 'ActivityTaskCanceled': {
        const row = close(`activity-${e.seq}`, e, 'canceled');
        for (const a of row?.attempts ?? []) if (a.outcome === 'running') a.outcome = 'canceled';
        break;
      }
      case 'TimerStarted':
        add(`timer-${e.seq}`, 'timer', e.summary ? `timer ${e.summary}` : 'timer', e, 'open').seq = e.seq;
        break;
      case 'TimerFired':
        close(`timer-${e.seq}`, e, 'ok');
        break;
      case 'TimerCanceled':
        close(`timer-${e.seq}`, e, 'canceled');
        break;
      case 'ChildWorkflowExecutionStarted': {
        const row = add(`child-${e.seq}`, 'child', e.workflowType, e, 'open');
        row.seq = e.seq;
        row.child = e.runId ? { workflowId: e.workflowId, runId: e.runId } : { workflowId: e.workflowId };
        break;
      }
      case 'ChildWorkflowExecutionCancelRequested':
        byKey.get(`child-${e.seq}`)?.events.push(e);
        break;
      case 'ChildWorkflowExecutionCompleted':
        close(`child-${e.seq}`, e, 'ok');
        break;
      case 'ChildWorkflowExecutionFailed':
        close(`child-${e.seq}`, e, 'failed');
        break;
      case 'WorkflowUpdateAccepted':
        add(`update-${e.updateId}`, 'update', e.updateName, e, 'open');
        break;
      case 'WorkflowUpdateCompleted':
        close(`update-${e.updateId}`, e, e.failure ? 'failed' : 'ok');
        break;
      case 'WorkflowUpdateRejected': {
        const row = add(`update-${e.updateId}`, 'update', e.updateName, e, 'failed');
        row.end = row.start;
        break;
      }
      case 'WorkflowSignaled': {
        const row = add(`signal-${e.eventId}`, 'signal', e.signalName, e, 'info');
        row.end = row.start;
        break;
      }
      case 'SignalExternalWorkflowExecutionInitiated':
        add(`external-${e.seq}`, 'external', `signal ${e.signalName} → ${e.workflowId}`, e, 'open');
        break;
      case 'RequestCancelExternalWorkflowExecutionInitiated':
        add(`external-${e.seq}`, 'external', `cancel → ${e.workflowId}`, e, 'open');
        break;
      case 'ExternalWorkflowExecutionSignaled':
      case 'ExternalWorkflowExecutionCancelRequested':
        close(`external-${e.seq}`, e, 'ok');
        break;
      case 'SignalExternalWorkflowExecutionFailed':
      case 'RequestCancelExternalWorkflowExecutionFailed':
        close(`external-${e.seq}`, e, 'failed');
        break;
      case 'MarkerRecorded': {
        const row = add(`marker-${e.eventId}`, 'marker', `patch ${e.patchId}`, e, 'info');
        row.end = row.start;
        break;
      }
      case 'UpsertWorkflowSearchAttributes': {
        const row = add(`marker-${e.eventId}`, 'marker', 'search attributes', e, 'info');
        row.end = row.start;
        break;
      }
      default:
        e satisfies never;
    }
  }
  const start = events[0] ? time(events[0]) : 0;
  const end = events.at(-1) ? time(events.at(-1)!) : start;
  return { rows, start, end };
}

/** The failure that closed a run, and the activity (or child) it came from, if any. */
export function failingStep(failure: FailureInfo): { activityType?: string; workflowType?: string } {
  let at: FailureInfo | undefined = failure;
  for (let i = 0; at && i < 64; i++, at = at.cause) {
    if (at.activityType) return { activityType: at.activityType };
    if (at.workflowType && at.name === 'ChildWorkflowFailure') return { workflowType: at.workflowType };
  }
  return {};
}
