import type { HistoryEvent } from '../history/events.js';
import { statusOfClosingEvent } from '../history/events.js';
import type { EventNotice } from '../protocol/service.js';
import type { Progress } from './progress.js';

/** One line of the dev dashboard: a run as its events describe it. */
export interface RunRow {
  workflowId: string;
  runId: string;
  workflowType: string;
  status: string;
  events: number;
  lastEvent: string;
  updatedAt: number;
  /** Why the run is paused (the engine's message), while it is. */
  pausedReason?: string;
  /** The run's last answer to its `progress` query, while it runs. */
  progress?: Progress;
}

/** Keeps the latest state of each run from the engine's event stream, newest first. */
export class RunBoard {
  private readonly rows = new Map<string, RunRow>();

  constructor(private readonly limit = 200) {}

  apply({ workflowId, runId, event }: EventNotice): void {
    const key = `${workflowId}\u0000${runId}`;
    let row = this.rows.get(key);
    if (!row) {
      row = {
        workflowId,
        runId,
        workflowType: event.type === 'WorkflowExecutionStarted' ? event.workflowType : '?',
        status: 'RUNNING',
        events: 0,
        lastEvent: '',
        updatedAt: 0,
      };
    }
    this.rows.delete(key);
    row.events = Math.max(row.events, event.eventId);
    row.lastEvent = describe(event);
    row.updatedAt = Date.parse(event.eventTime);
    const closed = statusOfClosingEvent(event.type);
    if (closed) {
      row.status = closed;
      delete row.progress;
      delete row.pausedReason;
    }
    this.rows.set(key, row);
    if (this.rows.size > this.limit) {
      const oldest = this.rows.keys().next().value;
      if (oldest !== undefined) this.rows.delete(oldest);
    }
  }

  /** Marks a run paused, with the reason (its code no longer replays its history), or running again (undefined). */
  setPaused(workflowId: string, runId: string, reason: string | undefined): void {
    const row = this.rows.get(`${workflowId}\u0000${runId}`);
    if (!row) return;
    if (reason !== undefined) {
      row.status = 'PAUSED';
      row.lastEvent = 'paused: see wf describe';
      row.pausedReason = reason;
    } else if (row.status === 'PAUSED') {
      row.status = 'RUNNING';
      row.lastEvent = 'resumed';
      delete row.pausedReason;
    }
  }

  /** Records a running run's progress (its answer to the `progress` query). */
  setProgress(workflowId: string, runId: string, progress: Progress): void {
    const row = this.rows.get(`${workflowId}\u0000${runId}`);
    if (row && row.status === 'RUNNING') row.progress = progress;
  }

  /** Rows, most recently updated first. */
  list(max = Number.POSITIVE_INFINITY): RunRow[] {
    return [...this.rows.values()].reverse().slice(0, max);
  }
}

function describe(event: HistoryEvent): string {
  switch (event.type) {
    case 'ActivityTaskScheduled':
      return `scheduled ${event.activityType}`;
    case 'ActivityTaskCompleted':
      return `activity ${event.seq} done`;
    case 'ActivityTaskFailed':
      return event.nextRetryDelayMs === undefined
        ? `activity ${event.seq} failed`
        : `activity ${event.seq} retry in ${event.nextRetryDelayMs} ms`;
    case 'TimerStarted':
      return `sleeping until ${event.fireAt.slice(11, 19)}`;
    case 'WorkflowSignaled':
      return `signal ${event.signalName}`;
    case 'WorkflowExecutionFailed':
      return event.failure.message;
    default:
      return event.type
        .replace(/^WorkflowExecution|^ActivityTask/, '')
        .replace(/([a-z])([A-Z])/g, '$1 $2')
        .toLowerCase();
  }
}
