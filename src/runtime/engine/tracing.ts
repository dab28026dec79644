import { createHash, randomBytes } from 'node:crypto';
import { formatTraceparent, parseTraceparent, type TraceHeader } from '../../common/trace-header.js';
import type { FailureInfo, HistoryEvent, WorkflowExecutionStarted } from '../../history/events.js';
import type { Ownership } from './ownership.js';
import type { RunEntry, RunStarted } from './run-entry.js';
import type { EngineSpan, EngineTracing, LinkedSpan, SpanAttributes, TraceIds } from './types.js';

/**
 * A run's place in a trace, derived from its WorkflowExecutionStarted alone: the trace (its header's,
 * or one named after the run ID when nobody traced the start) and the ID of its `RunWorkflow` span.
 */
export interface RunTrace {
  traceId: string;
  runSpanId: string;
  /** The span that caused the run (from its header): `RunWorkflow`'s parent. */
  parentSpanId?: string;
  sampled: boolean;
  traceState?: string;
}

/**
 * Span IDs are a hash of the run ID and what the span is (`run`, `activity/<id>`, `attempt/<id>/<n>`,
 * `child/<seq>`...): every process that reads a run's history names its spans alike, so a span
 * begun before a restart is ended after it under the same ID and parent, and a child's span can be
 * the parent of spans written before it is itself exported.
 */
export function deriveSpanId(runId: string, what: string): string {
  return hashHex(`${runId}\u0000${what}`, 16);
}

export function runTraceOf(started: Pick<WorkflowExecutionStarted, 'runId' | 'header'>): RunTrace {
  const parent = started.header ? parseTraceparent(started.header.traceparent) : undefined;
  return {
    traceId: parent?.traceId ?? hashHex(`trace\u0000${started.runId}`, 32),
    runSpanId: deriveSpanId(started.runId, 'run'),
    ...(parent ? { parentSpanId: parent.spanId } : {}),
    sampled: parent ? (parent.flags & 1) === 1 : true,
    ...(started.header?.tracestate ? { traceState: started.header.tracestate } : {}),
  };
}

function hashHex(text: string, length: number): string {
  const hex = createHash('sha256').update(text).digest('hex').slice(0, length);
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

interface OpenActivity {
  type: string;
  activityId: string;
  scheduledAt: string;
  attempt?: number;
  attemptStartedAt?: string;
}

/** What a run's spans need from events recorded earlier: when each open thing began. */
interface RunSpans {
  trace: RunTrace;
  activities: Map<number, OpenActivity>;
  children: Map<number, { type: string; workflowId: string; at: string }>;
  updates: Map<string, { name: string; at: string; header?: TraceHeader }>;
  signalsOut: Map<number, { name: string; workflowId: string; at: string }>;
}

const CLOSING: Partial<Record<HistoryEvent['type'], string>> = {
  WorkflowExecutionCompleted: 'completed',
  WorkflowExecutionFailed: 'failed',
  WorkflowExecutionCanceled: 'canceled',
  WorkflowExecutionTerminated: 'terminated',
  WorkflowExecutionTimedOut: 'timed_out',
  WorkflowExecutionContinuedAsNew: 'continued_as_new',
};

/**
 * Turns durable events into finished spans (Temporal's names: `RunWorkflow:<type>`,
 * `StartActivity:<type>`, `RunActivity:<type>` per attempt, `HandleSignal:<name>`...). Like the
 * metering beside it, it sees each event once, when the append that carries it succeeds, and emits a
 * span when the event that ends it is durable, with the start and end times recorded in the history:
 * a run rebuilt by replay only teaches it what is open (`historyLoaded`), so nothing replayed is
 * emitted twice, and a span open across a restart is emitted once, after it, with its original start.
 */
export class Tracing {
  /** Open runs this process has seen, by run ID (workflow log lines name only their run). */
  private readonly runs = new Map<string, RunSpans>();
  /**
   * Runs whose trace this process knows without holding them: runs being created (their first
   * activation may log before their first append is durable), and runs whose activity attempts it
   * runs for another server. At most 1,000, the oldest forgotten first.
   */
  private readonly known = new Map<string, RunTrace>();

  constructor(readonly sink: EngineTracing) {}

  /** Wraps how histories are written so that each durable append's events are traced. */
  trace(inner: Ownership): Ownership {
    const durable = (entry: RunEntry, events: HistoryEvent[]) => {
      for (const event of events) this.event(entry.started, event, true);
    };
    return {
      shared: inner.shared,
      async create(entry, events) {
        await inner.create(entry, events);
        durable(entry, events);
      },
      async append(entry, events, consumed) {
        await inner.append(entry, events, consumed);
        durable(entry, events);
      },
    };
  }

  /** A run's executor was rebuilt from its history: learn what is open in it, emit nothing. */
  historyLoaded(history: HistoryEvent[]): void {
    const first = history[0];
    if (first?.type !== 'WorkflowExecutionStarted') return;
    const before = this.runs.get(first.runId);
    for (const event of history) this.event(first, event, false);
    // An attempt running here while its run was evicted: the history does not say when it began.
    const rebuilt = this.runs.get(first.runId);
    for (const [seq, activity] of rebuilt?.activities ?? []) {
      const known = before?.activities.get(seq);
      if (activity.attemptStartedAt !== undefined || known?.attemptStartedAt === undefined) continue;
      activity.attempt = known.attempt as number;
      activity.attemptStartedAt = known.attemptStartedAt;
    }
  }

  /**
   * A run about to be created, or one this process runs an activity attempt of for another server:
   * log lines written for it name its trace.
   */
  knowRun(run: Pick<WorkflowExecutionStarted, 'runId' | 'header'>): void {
    if (this.known.size >= 1000) this.known.delete(this.known.keys().next().value as string);
    this.known.set(run.runId, runTraceOf(run));
  }

  /** The run's creation failed. */
  forgetRun(runId: string): void {
    this.known.delete(runId);
  }

  /** The header of the run a closed run continues as: a child of the closing run's `RunWorkflow`. */
  continuedHeader(previous: RunStarted): { header: TraceHeader } {
    const trace = runTraceOf(previous);
    return { header: headerOf(trace, trace.runSpanId) };
  }

  /** The header of a signal a workflow sends: its `SignalExternalWorkflow` span. */
  signalHeader(sender: RunStarted, seq: number): TraceHeader {
    return headerOf(runTraceOf(sender), deriveSpanId(sender.runId, `signal/${seq}`));
  }

  /** The header of a child run: a child of its parent's `StartChildWorkflowExecution` span. */
  childHeader(parent: RunStarted, seq: number): { header: TraceHeader } {
    const trace = runTraceOf(parent);
    return { header: headerOf(trace, deriveSpanId(parent.runId, `child/${seq}`)) };
  }

  /**
   * The trace and span a log line belongs to: the run's `RunWorkflow`, or with an activity's ID and
   * attempt, that attempt's `RunActivity`. Undefined for a run this process does not hold.
   */
  logContext(runId: string, activity?: { activityId: string; attempt: number }): TraceIds | undefined {
    const trace = this.runs.get(runId)?.trace ?? this.known.get(runId);
    if (!trace) return undefined;
    const spanId = activity
      ? deriveSpanId(runId, `attempt/${activity.activityId}/${activity.attempt}`)
      : trace.runSpanId;
    return { traceId: trace.traceId, spanId };
  }

  /**
   * An attempt began in this process. Its ActivityTaskStarted is recorded with its outcome (its
   * time is the outcome's), so `RunActivity` starts at the time given here, on the engine's clock.
   */
  attemptStarted(runId: string, seq: number, attempt: number, now: number): void {
    const activity = this.runs.get(runId)?.activities.get(seq);
    if (!activity) return;
    activity.attempt = attempt;
    activity.attemptStartedAt = new Date(now).toISOString();
  }

  /** A query was answered (queries are not recorded: the span is emitted as it happens). */
  queryHandled(started: RunStarted, name: string, start: Date, failure?: FailureInfo): void {
    const trace = this.runs.get(started.runId)?.trace ?? runTraceOf(started);
    this.emit(started, trace, {
      name: `HandleQuery:${name}`,
      kind: 'server',
      spanId: randomSpanId(),
      parentSpanId: trace.runSpanId,
      startTime: start,
      endTime: new Date(),
      attributes: { 'wf.query.name': name },
      ...(failure ? { failure } : {}),
    });
  }

  private event(started: RunStarted, event: HistoryEvent, live: boolean): void {
    if (event.type === 'WorkflowExecutionStarted') {
      this.known.delete(event.runId);
      this.runs.set(event.runId, newRunSpans(event));
      return;
    }
    let run = this.runs.get(started.runId);
    if (!run) {
      run = newRunSpans(started);
      this.runs.set(started.runId, run);
    }
    const { runId } = started;
    const { trace } = run;
    const at = event.eventTime;
    switch (event.type) {
      case 'ActivityTaskScheduled':
        run.activities.set(event.seq, {
          type: event.activityType,
          activityId: event.activityId,
          scheduledAt: at,
        });
        return;
      case 'ActivityTaskStarted': {
        const activity = run.activities.get(event.seq);
        // Unless this process ran the attempt and knows when it began (attemptStarted).
        if (activity && (activity.attempt !== event.attempt || activity.attemptStartedAt === undefined)) {
          activity.attempt = event.attempt;
          activity.attemptStartedAt = at;
        }
        return;
      }
      case 'ActivityTaskCompleted':
      case 'ActivityTaskFailed':
      case 'ActivityTaskTimedOut':
      case 'ActivityTaskCanceled': {
        const activity = run.activities.get(event.seq);
        if (!activity) return;
        const failure = activityFailure(event);
        const final = !('nextRetryDelayMs' in event && event.nextRetryDelayMs !== undefined);
        const activitySpanId = deriveSpanId(runId, `activity/${activity.activityId}`);
        const attributes: SpanAttributes = {
          'wf.activity.type': activity.type,
          'wf.activity.id': activity.activityId,
        };
        if (live && activity.attemptStartedAt !== undefined && activity.attempt !== undefined) {
          this.emit(started, trace, {
            name: `RunActivity:${activity.type}`,
            kind: 'server',
            spanId: deriveSpanId(runId, `attempt/${activity.activityId}/${activity.attempt}`),
            parentSpanId: activitySpanId,
            startTime: new Date(activity.attemptStartedAt),
            endTime: new Date(at),
            attributes: {
              ...attributes,
              'wf.activity.attempt': activity.attempt,
              'wf.activity.outcome': outcomeOf(event.type),
              ...(final ? {} : { 'wf.activity.retrying': true }),
            },
            ...(failure ? { failure } : {}),
          });
        }
        delete activity.attempt;
        delete activity.attemptStartedAt;
        if (!final) return;
        run.activities.delete(event.seq);
        if (!live) return;
        this.emit(started, trace, {
          name: `StartActivity:${activity.type}`,
          kind: 'client',
          spanId: activitySpanId,
          parentSpanId: trace.runSpanId,
          startTime: new Date(activity.scheduledAt),
          endTime: new Date(at),
          attributes: { ...attributes, 'wf.activity.outcome': outcomeOf(event.type) },
          ...(failure ? { failure } : {}),
        });
        return;
      }
      case 'WorkflowSignaled':
        if (!live) return;
        this.emit(started, trace, {
          name: `HandleSignal:${event.signalName}`,
          kind: 'server',
          spanId: deriveSpanId(runId, `event/${event.eventId}`),
          parentSpanId: trace.runSpanId,
          startTime: new Date(at),
          endTime: new Date(at),
          attributes: { 'wf.signal.name': event.signalName },
          ...linksFrom(event.header),
        });
        return;
      case 'WorkflowUpdateAccepted':
        run.updates.set(event.updateId, {
          name: event.updateName,
          at,
          ...(event.header ? { header: event.header } : {}),
        });
        return;
      case 'WorkflowUpdateCompleted':
      case 'WorkflowUpdateRejected': {
        const accepted = run.updates.get(event.updateId);
        run.updates.delete(event.updateId);
        const name = event.type === 'WorkflowUpdateRejected' ? event.updateName : accepted?.name;
        if (!live || name === undefined) return;
        this.emit(started, trace, {
          name: `${event.type === 'WorkflowUpdateRejected' ? 'ValidateUpdate' : 'HandleUpdate'}:${name}`,
          kind: 'server',
          spanId: deriveSpanId(runId, `update/${event.updateId}/${event.eventId}`),
          parentSpanId: trace.runSpanId,
          startTime: new Date(accepted?.at ?? at),
          endTime: new Date(at),
          attributes: { 'wf.update.id': event.updateId, 'wf.update.name': name },
          ...linksFrom(accepted?.header),
          ...(event.failure ? { failure: event.failure } : {}),
        });
        return;
      }
      case 'ChildWorkflowExecutionStarted':
        run.children.set(event.seq, { type: event.workflowType, workflowId: event.workflowId, at });
        return;
      case 'ChildWorkflowExecutionCompleted':
      case 'ChildWorkflowExecutionFailed': {
        const child = run.children.get(event.seq);
        run.children.delete(event.seq);
        if (!live || !child) return;
        this.emit(started, trace, {
          name: `StartChildWorkflowExecution:${child.type}`,
          kind: 'client',
          spanId: deriveSpanId(runId, `child/${event.seq}`),
          parentSpanId: trace.runSpanId,
          startTime: new Date(child.at),
          endTime: new Date(at),
          attributes: { 'wf.child.workflow.type': child.type, 'wf.child.workflow.id': child.workflowId },
          ...(event.type === 'ChildWorkflowExecutionFailed' ? { failure: event.failure } : {}),
        });
        return;
      }
      case 'SignalExternalWorkflowExecutionInitiated':
        run.signalsOut.set(event.seq, { name: event.signalName, workflowId: event.workflowId, at });
        return;
      case 'ExternalWorkflowExecutionSignaled':
      case 'SignalExternalWorkflowExecutionFailed': {
        const signal = run.signalsOut.get(event.seq);
        run.signalsOut.delete(event.seq);
        if (!live || !signal) return;
        this.emit(started, trace, {
          name: `SignalExternalWorkflow:${signal.name}`,
          kind: 'client',
          spanId: deriveSpanId(runId, `signal/${event.seq}`),
          parentSpanId: trace.runSpanId,
          startTime: new Date(signal.at),
          endTime: new Date(at),
          attributes: { 'wf.signal.name': signal.name, 'wf.target.workflow.id': signal.workflowId },
          ...(event.type === 'SignalExternalWorkflowExecutionFailed' ? { failure: event.failure } : {}),
        });
        return;
      }
      default: {
        const outcome = CLOSING[event.type];
        if (outcome === undefined) return;
        this.runs.delete(runId);
        if (!live) return;
        this.emit(started, trace, {
          name: `RunWorkflow:${started.workflowType}`,
          kind: 'server',
          spanId: trace.runSpanId,
          ...(trace.parentSpanId ? { parentSpanId: trace.parentSpanId, remoteParent: true } : {}),
          startTime: new Date(started.eventTime),
          endTime: new Date(at),
          attributes: {
            'wf.workflow.outcome': outcome,
            'wf.workflow.history_length': event.eventId,
            ...(started.continuedFromRunId
              ? { 'wf.workflow.continued_from_run_id': started.continuedFromRunId }
              : {}),
            ...(event.type === 'WorkflowExecutionContinuedAsNew'
              ? { 'wf.workflow.new_run_id': event.newRunId }
              : {}),
          },
          ...(event.type === 'WorkflowExecutionFailed' ? { failure: event.failure } : {}),
          ...(event.type === 'WorkflowExecutionTimedOut' ? { error: 'workflow run timed out' } : {}),
          ...(event.type === 'WorkflowExecutionTerminated'
            ? { error: `terminated${event.reason ? `: ${event.reason}` : ''}` }
            : {}),
        });
      }
    }
  }

  private emit(
    started: RunStarted,
    trace: RunTrace,
    span: Omit<EngineSpan, 'traceId' | 'sampled' | 'attributes'> & { attributes: SpanAttributes },
  ): void {
    try {
      this.sink.span({
        ...span,
        traceId: trace.traceId,
        sampled: trace.sampled,
        ...(trace.traceState ? { traceState: trace.traceState } : {}),
        attributes: {
          'wf.workflow.type': started.workflowType,
          'wf.workflow.id': started.workflowId,
          'wf.run.id': started.runId,
          ...span.attributes,
        },
      });
    } catch {
      // Tracing never stops a workflow: an exporter's error is the exporter's to report.
    }
  }
}

function newRunSpans(started: RunStarted): RunSpans {
  return {
    trace: runTraceOf(started),
    activities: new Map(),
    children: new Map(),
    updates: new Map(),
    signalsOut: new Map(),
  };
}

/** A link to the span a header names (the sender of a signal, the caller of an update). */
function linksFrom(header: TraceHeader | undefined): { links: LinkedSpan[] } | Record<string, never> {
  const parent = header ? parseTraceparent(header.traceparent) : undefined;
  if (!parent) return {};
  return {
    links: [
      {
        traceId: parent.traceId,
        spanId: parent.spanId,
        sampled: (parent.flags & 1) === 1,
        ...(header?.tracestate ? { traceState: header.tracestate } : {}),
      },
    ],
  };
}

function headerOf(trace: RunTrace, spanId: string): TraceHeader {
  const traceparent = formatTraceparent({ traceId: trace.traceId, spanId, flags: trace.sampled ? 1 : 0 });
  return trace.traceState ? { traceparent, tracestate: trace.traceState } : { traceparent };
}

function outcomeOf(type: HistoryEvent['type']): string {
  switch (type) {
    case 'ActivityTaskCompleted':
      return 'completed';
    case 'ActivityTaskFailed':
      return 'failed';
    case 'ActivityTaskTimedOut':
      return 'timed_out';
    default:
      return 'canceled';
  }
}

function activityFailure(event: HistoryEvent): FailureInfo | undefined {
  if (event.type === 'ActivityTaskFailed') return event.failure;
  if (event.type === 'ActivityTaskTimedOut') {
    return {
      name: 'TimeoutFailure',
      message: `activity timed out (${event.timeoutType})${event.lastFailure ? `: ${event.lastFailure.message}` : ''}`,
      timeoutType: event.timeoutType,
      ...(event.lastFailure ? { cause: event.lastFailure } : {}),
    };
  }
  return undefined;
}

function randomSpanId(): string {
  return randomBytes(8).toString('hex');
}
