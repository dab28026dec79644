/**
 * Where `wf dev` reports what happens: server messages, every recorded event, workflow log lines,
 * runs pausing and resuming, time skips. Three renderings: plain lines (pipes, CI), JSON Lines
 * (`--log-format json`, one object per line) and the live terminal view (src/ui).
 */

import type { ActivityLogRecord } from '../activity/log.js';
import { formatDuration } from '../common/format-duration.js';
import { printable, terminalJson } from '../common/printable.js';
import type { HistoryEvent } from '../history/events.js';
import type { RunKey } from '../history/store.js';
import type { EventNotice } from '../protocol/service.js';
import type { TraceIds } from '../runtime/engine/index.js';
import type { LogRecord } from '../workflow/protocol.js';

export type MessageLevel = 'info' | 'warn' | 'error';

export interface DevReporter {
  /** A message of the server itself (start-up report, reloads, warnings). */
  message(level: MessageLevel, text: string): void;
  /** An event just recorded in a run's history. */
  event(notice: EventNotice): void;
  /** A `log` call of workflow code; `trace` names its run's `RunWorkflow` span when tracing is on. */
  workflowLog(runId: string, record: LogRecord, trace?: TraceIds): void;
  /** A `log` call of activity code, with the activity's context (and its attempt's span when tracing is on). */
  activityLog(record: ActivityLogRecord, trace?: TraceIds): void;
  /** A run paused (its code no longer replays its history; `reason` says why) or resumed (undefined). */
  paused(run: RunKey, reason: string | undefined): void;
  /** The clock was skipped forward: `now` is the time workflows see, `offsetMs` the total offset. */
  timeSkipped(now: string, offsetMs: number): void;
}

/** Plain lines, for pipes and CI logs (control characters in user text escaped). */
export function plainReporter(write: (line: string) => void): DevReporter {
  return {
    message(level, text) {
      const prefix = level === 'info' ? '' : `${level === 'warn' ? 'warning' : 'error'}: `;
      for (const line of text.split('\n')) write(`${prefix}${line}`);
    },
    event(notice) {
      write(printable(formatNotice(notice)));
    },
    workflowLog(runId, record, trace) {
      write(printable(formatLog(runId, record) + traceSuffix(trace)));
    },
    activityLog(record, trace) {
      write(printable(formatActivityLog(record) + traceSuffix(trace)));
    },
    paused(run, reason) {
      // A pause is reported by the engine's own error line, with its reason in full.
      if (reason === undefined) write(printable(`${run.workflowId} resumed`));
    },
    timeSkipped(now, offsetMs) {
      write(`time skipped: workflows now see ${now} (${formatDuration(offsetMs)} ahead of real time)`);
    },
  };
}

/**
 * One JSON object per line (`wf dev --log-format json`): `{"ts", "kind", ...}` with kind `message`,
 * `event` (the whole history event, with a `level`), `log` (workflow code's, or with `"source":
 * "activity"` and the activity's IDs, activity code's), `paused`, `resumed` or `time`. `ts` is the
 * wall-clock time the line was written; events also carry the `eventTime` the workflow saw.
 */
export function jsonReporter(write: (line: string) => void): DevReporter {
  // Workflow log records name only their run: remember each run's workflow ID from its events.
  const workflowIds = new Map<string, string>();
  const emit = (record: Record<string, unknown>) =>
    write(terminalJson(JSON.stringify({ ts: new Date().toISOString(), ...record })));
  return {
    message(level, text) {
      emit({ kind: 'message', level, message: text });
    },
    event({ workflowId, runId, event }) {
      if (event.type === 'WorkflowExecutionStarted') {
        workflowIds.set(runId, workflowId);
        if (workflowIds.size > 10_000) workflowIds.delete(workflowIds.keys().next().value as string);
      }
      emit({ kind: 'event', level: eventLevel(event), workflowId, runId, event });
    },
    workflowLog(runId, record, trace) {
      const workflowId = workflowIds.get(runId);
      emit({
        kind: 'log',
        level: record.level,
        message: record.message,
        ...(record.attributes ? { attributes: record.attributes } : {}),
        ...(workflowId === undefined ? {} : { workflowId }),
        runId,
        ...traceFields(trace),
      });
    },
    activityLog({ level, message, attributes, activity }, trace) {
      emit({
        kind: 'log',
        source: 'activity',
        level,
        message,
        ...(attributes ? { attributes } : {}),
        ...activity,
        ...traceFields(trace),
      });
    },
    paused(run, reason) {
      emit(
        reason === undefined
          ? { kind: 'resumed', workflowId: run.workflowId, runId: run.runId }
          : { kind: 'paused', workflowId: run.workflowId, runId: run.runId, reason },
      );
    },
    timeSkipped(now, offsetMs) {
      emit({ kind: 'time', now, offsetMs });
    },
  };
}

/** OpenTelemetry's names for a log record's trace context (its log data model: trace_id, span_id). */
function traceFields(trace: TraceIds | undefined): Record<string, string> {
  return trace ? { trace_id: trace.traceId, span_id: trace.spanId } : {};
}

function traceSuffix(trace: TraceIds | undefined): string {
  return trace ? ` trace_id=${trace.traceId} span_id=${trace.spanId}` : '';
}

function formatLog(runId: string, record: LogRecord): string {
  return `  [${record.level}] ${record.message}${attrs(record.attributes)} (run ${runId.slice(0, 8)})`;
}

function formatActivityLog({ level, message, attributes, activity }: ActivityLogRecord): string {
  const { workflowId, activityType, activityId, attempt } = activity;
  return `  [${level}] ${message}${attrs(attributes)} (activity ${activityType} #${activityId} attempt ${attempt} of ${workflowId})`;
}

/**
 * The level of an event line: `warn` for a failed or timed-out activity attempt, `debug` when the
 * failure's category is BENIGN (an expected failure, as Temporal logs it), `info` for the rest.
 */
export function eventLevel(event: HistoryEvent): 'debug' | 'info' | 'warn' {
  if (event.type === 'ActivityTaskFailed') return event.failure.category === 'BENIGN' ? 'debug' : 'warn';
  if (event.type === 'ActivityTaskTimedOut' || event.type === 'WorkflowExecutionFailed') return 'warn';
  return 'info';
}

function attrs(attributes: Record<string, unknown> | undefined): string {
  return attributes && Object.keys(attributes).length ? ` ${terminalJson(JSON.stringify(attributes))}` : '';
}

function formatNotice({ workflowId, event }: EventNotice): string {
  const time = event.eventTime.slice(11, 23);
  return `${time} ${workflowId} #${event.eventId} ${event.type}${detail(event)}`;
}

function detail(event: HistoryEvent): string {
  switch (event.type) {
    case 'WorkflowExecutionStarted':
      return ` ${event.workflowType}`;
    case 'ActivityTaskScheduled':
      return ` ${event.activityType}`;
    case 'ActivityTaskStarted':
    case 'ActivityTaskCompleted':
      return ` seq ${event.seq} attempt ${event.attempt}`;
    case 'ActivityTaskFailed':
      return ` seq ${event.seq} attempt ${event.attempt}${event.failure.category === 'BENIGN' ? ' (benign)' : ''}: ${event.failure.message}${
        event.nextRetryDelayMs === undefined ? '' : ` (retry in ${event.nextRetryDelayMs} ms)`
      }`;
    case 'TimerStarted':
      return ` ${event.durationMs} ms, fires ${event.fireAt}`;
    case 'WorkflowSignaled':
      return ` ${event.signalName}`;
    case 'WorkflowExecutionFailed':
      return `: ${event.failure.message}`;
    default:
      return '';
  }
}
