import type { HistoryEvent } from '../../history/events.js';
import type { HistoryStore } from '../../history/store.js';
import { NonDeterminismError } from '../errors.js';
import { WorkflowDeadlockError } from '../sandbox.js';
import type { Ownership } from './ownership.js';
import type { RunEntry } from './run-entry.js';
import type { ClosedRunOutcome, EngineMetrics, PauseReason } from './types.js';

const CLOSED_OUTCOMES: Partial<Record<HistoryEvent['type'], ClosedRunOutcome>> = {
  WorkflowExecutionCompleted: 'completed',
  WorkflowExecutionFailed: 'failed',
  WorkflowExecutionCanceled: 'canceled',
  WorkflowExecutionTerminated: 'terminated',
  WorkflowExecutionTimedOut: 'timed_out',
  WorkflowExecutionContinuedAsNew: 'continued_as_new',
};

/**
 * Turns durable events into metrics. It sees each event once, when the append that carries it
 * succeeds: an executor rebuilt by replay produces no append for its old events, so nothing
 * replayed is counted twice.
 */
export class Metering {
  /** Activity types of each run's activities, by seq: outcome events name only the seq. */
  private readonly activityTypes = new WeakMap<RunEntry, Map<number, string>>();

  /** The store's byte count when last read: each append reports what the store wrote since. */
  private bytesSeen: number;

  constructor(
    readonly sink: EngineMetrics,
    private readonly store: Pick<HistoryStore, 'appendedBytes'>,
  ) {
    this.bytesSeen = store.appendedBytes;
  }

  /** Wraps how histories are written so that each durable append is timed and its events counted. */
  meter(inner: Ownership): Ownership {
    const appended = (entry: RunEntry, events: HistoryEvent[], started: number) => {
      const seconds = (performance.now() - started) / 1000;
      // Appends of other runs may have finished meanwhile: their bytes are reported here, once.
      const total = this.store.appendedBytes;
      const bytes = total - this.bytesSeen;
      this.bytesSeen = total;
      this.sink.storeAppended(seconds, events.length, bytes);
      this.eventsDurable(entry, events);
    };
    return {
      shared: inner.shared,
      async create(entry, events) {
        const started = performance.now();
        await inner.create(entry, events);
        appended(entry, events, started);
      },
      async append(entry, events, consumed) {
        const started = performance.now();
        await inner.append(entry, events, consumed);
        if (events.length > 0) appended(entry, events, started);
      },
    };
  }

  /** Learns the activity types of a run whose executor was just rebuilt (its scheduling was appended earlier). */
  executorLoaded(entry: RunEntry): void {
    const pending = entry.executor?.activities;
    if (!pending || pending.size === 0) return;
    const types = this.typesOf(entry);
    for (const [seq, activity] of pending) types.set(seq, activity.scheduled.activityType);
  }

  paused(entry: RunEntry, error: Error): void {
    const reason: PauseReason =
      error instanceof NonDeterminismError
        ? 'nondeterminism'
        : error instanceof WorkflowDeadlockError
          ? 'deadlock'
          : 'store';
    this.sink.workflowPaused(entry.workflowType, reason);
  }

  private eventsDurable(entry: RunEntry, events: HistoryEvent[]): void {
    const { sink } = this;
    const workflowType = entry.workflowType;
    for (const event of events) {
      switch (event.type) {
        case 'WorkflowExecutionStarted':
          sink.workflowStarted(workflowType);
          break;
        case 'WorkflowSignaled':
          sink.signalReceived(workflowType);
          break;
        case 'WorkflowUpdateCompleted':
          sink.updateHandled(workflowType, event.failure ? 'failed' : 'completed');
          break;
        case 'WorkflowUpdateRejected':
          sink.updateHandled(workflowType, 'rejected');
          break;
        case 'TimerStarted':
          sink.timerStarted(workflowType);
          break;
        case 'TimerFired':
          sink.timerFired(workflowType);
          break;
        case 'ActivityTaskScheduled':
          this.typesOf(entry).set(event.seq, event.activityType);
          sink.activityScheduled(event.activityType);
          break;
        case 'ActivityTaskStarted':
          sink.activityAttemptStarted(this.activityType(entry, event.seq));
          break;
        case 'ActivityTaskCompleted':
          sink.activityAttemptRecorded(this.activityType(entry, event.seq), 'completed', false);
          this.typesOf(entry).delete(event.seq);
          break;
        case 'ActivityTaskFailed':
        case 'ActivityTaskTimedOut': {
          const retrying = event.nextRetryDelayMs !== undefined;
          const outcome = event.type === 'ActivityTaskFailed' ? 'failed' : 'timed_out';
          sink.activityAttemptRecorded(this.activityType(entry, event.seq), outcome, retrying);
          if (!retrying) this.typesOf(entry).delete(event.seq);
          break;
        }
        case 'ActivityTaskCanceled':
          sink.activityAttemptRecorded(this.activityType(entry, event.seq), 'canceled', false);
          this.typesOf(entry).delete(event.seq);
          break;
        default: {
          const outcome = CLOSED_OUTCOMES[event.type];
          if (outcome) {
            sink.workflowClosed(workflowType, outcome, event.eventId);
            this.activityTypes.delete(entry);
          }
        }
      }
    }
  }

  private typesOf(entry: RunEntry): Map<number, string> {
    let types = this.activityTypes.get(entry);
    if (!types) {
      types = new Map();
      this.activityTypes.set(entry, types);
    }
    return types;
  }

  private activityType(entry: RunEntry, seq: number): string {
    return (
      entry.executor?.activities.get(seq)?.scheduled.activityType ??
      this.activityTypes.get(entry)?.get(seq) ??
      'unknown'
    );
  }
}
