import type { HistoryEvent } from '../history/events.js';
import { statusOfClosingEvent } from '../history/events.js';
import type { EventNotice } from '../protocol/service.js';

/** One line of the dev dashboard: a run as its events describe it. */
export interface RunRow {
  workflowId: string;
  runId: string;
  workflowType: string;
  status: string;
  events: number;
  lastEvent: string;
  updatedAt: number;
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
    row.status = statusOfClosingEvent(event.type) ?? row.status;
    this.rows.set(key, row);
    if (this.rows.size > this.limit) {
      const oldest = this.rows.keys().next().value;
      if (oldest !== undefined) this.rows.delete(oldest);
    }
  }

  /** Marks a run paused (its code no longer replays its history) or running again. */
  setPaused(workflowId: string, runId: string, paused: boolean): void {
    const row = this.rows.get(`${workflowId}\u0000${runId}`);
    if (!row) return;
    if (paused) {
      row.status = 'PAUSED';
      row.lastEvent = 'paused: see wf describe';
    } else if (row.status === 'PAUSED') {
      row.status = 'RUNNING';
      row.lastEvent = 'resumed';
    }
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
