/**
 * A run's history as a readable plain-text timeline (`wf show`): one line per event with its id,
 * the time since the run started, its type and the detail that matters for that type.
 */

import pc from 'picocolors';
import { formatDuration } from '../common/format-duration.js';
import { printable, terminalJson } from '../common/printable.js';
import type { FailureInfo, HistoryEvent } from '../history/events.js';

export interface TimelineOptions {
  /** ANSI colours; pass false for pipes, files and tests. */
  color: boolean;
  /** Longest rendering of a value (args, results) before it is cut with an ellipsis. Default 80. */
  maxValueLength?: number;
}

type Colors = ReturnType<typeof pc.createColors>;
type Tone = 'start' | 'ok' | 'bad' | 'warn' | 'message' | 'timer' | 'plain';

/** Formats a history as lines of text (no trailing newline). */
export function formatTimeline(input: readonly HistoryEvent[], options: TimelineOptions): string {
  const events = input.map(printableEvent);
  const c = pc.createColors(options.color);
  const maxLen = options.maxValueLength ?? 80;
  const activityTypes = new Map<number, string>();
  const childTypes = new Map<number, string>();
  const timerDurations = new Map<number, number>();
  const updateNames = new Map<string, string>();
  const t0 = events[0] ? Date.parse(events[0].eventTime) : 0;
  const idWidth = String(events.at(-1)?.eventId ?? 1).length;
  const rows: { id: string; time: string; type: string; tone: Tone; detail: string }[] = [];

  const value = (v: unknown) => summarizeValue(v, maxLen);
  const args = (a: unknown[]) => `(${a.map(value).join(', ')})`;
  const activity = (seq: number) => activityTypes.get(seq) ?? `activity #${seq}`;
  const child = (seq: number) => childTypes.get(seq) ?? `child #${seq}`;
  const retry = (delay: number | undefined) =>
    delay === undefined ? ', final' : `, retry in ${formatDuration(delay, 'clock')}`;

  for (const e of events) {
    let tone: Tone = 'plain';
    let detail: string;
    switch (e.type) {
      case 'WorkflowExecutionStarted':
        tone = 'start';
        detail = `${e.workflowType}${args(e.args)} id=${JSON.stringify(e.workflowId)} run=${e.runId}`;
        if (e.continuedFromRunId) detail += ` continued from ${e.continuedFromRunId}`;
        if (e.runTimeoutMs !== undefined) detail += ` run timeout ${formatDuration(e.runTimeoutMs, 'clock')}`;
        break;
      case 'ActivityTaskScheduled':
        activityTypes.set(e.seq, e.activityType);
        detail = `${e.activityType}${args(e.args)}`;
        break;
      case 'ActivityTaskStarted':
        detail = `${activity(e.seq)} attempt ${e.attempt}`;
        break;
      case 'ActivityTaskCompleted':
        tone = 'ok';
        detail = `${activity(e.seq)} attempt ${e.attempt} → ${value(e.result)}`;
        break;
      case 'ActivityTaskFailed':
        tone = e.nextRetryDelayMs === undefined ? 'bad' : 'warn';
        detail = `${activity(e.seq)} attempt ${e.attempt}: ${summarizeFailure(e.failure)}${retry(e.nextRetryDelayMs)}`;
        break;
      case 'ActivityTaskTimedOut':
        tone = e.nextRetryDelayMs === undefined ? 'bad' : 'warn';
        detail = `${activity(e.seq)} attempt ${e.attempt}: ${e.timeoutType} timeout${retry(e.nextRetryDelayMs)}`;
        break;
      case 'ActivityTaskCancelRequested':
        detail = activity(e.seq);
        break;
      case 'ActivityTaskCanceled':
        tone = 'warn';
        detail = activity(e.seq);
        break;
      case 'TimerStarted':
        tone = 'timer';
        timerDurations.set(e.seq, e.durationMs);
        detail = `${formatDuration(e.durationMs, 'clock')}${e.summary ? ` ${JSON.stringify(e.summary)}` : ''} (fires ${e.fireAt})`;
        break;
      case 'TimerFired':
        tone = 'timer';
        detail = timerLabel(e.seq, timerDurations);
        break;
      case 'TimerCanceled':
        detail = timerLabel(e.seq, timerDurations);
        break;
      case 'WorkflowSignaled':
        tone = 'message';
        detail = `${e.signalName}${args(e.args)}`;
        break;
      case 'WorkflowUpdateAccepted':
        tone = 'message';
        updateNames.set(e.updateId, e.updateName);
        detail = `${e.updateName}${args(e.args)} id=${e.updateId}`;
        break;
      case 'WorkflowUpdateCompleted': {
        const name = updateNames.get(e.updateId) ?? 'update';
        if (e.failure) {
          tone = 'bad';
          detail = `${name} id=${e.updateId}: ${summarizeFailure(e.failure)}`;
        } else {
          tone = 'ok';
          detail = `${name} id=${e.updateId} → ${value(e.result)}`;
        }
        break;
      }
      case 'WorkflowUpdateRejected':
        tone = 'warn';
        detail = `${e.updateName} id=${e.updateId}: ${summarizeFailure(e.failure)}`;
        break;
      case 'MarkerRecorded':
        detail = `patch ${JSON.stringify(e.patchId)}${e.deprecated ? ' (deprecated)' : ''}`;
        break;
      case 'UpsertWorkflowSearchAttributes':
        detail = printable(JSON.stringify(e.searchAttributes));
        break;
      case 'ChildWorkflowExecutionStarted':
        childTypes.set(e.seq, e.workflowType);
        detail = `${e.workflowType}${args(e.args)} id=${JSON.stringify(e.workflowId)}${e.runId ? ` run=${e.runId}` : ''}`;
        break;
      case 'SignalExternalWorkflowExecutionInitiated':
        tone = 'message';
        detail = `${e.signalName}${args(e.args)} → ${JSON.stringify(e.workflowId)}`;
        break;
      case 'ExternalWorkflowExecutionSignaled':
        tone = 'ok';
        detail = `signal #${e.seq} delivered`;
        break;
      case 'SignalExternalWorkflowExecutionFailed':
        tone = 'bad';
        detail = `signal #${e.seq}: ${summarizeFailure(e.failure)}`;
        break;
      case 'RequestCancelExternalWorkflowExecutionInitiated':
        tone = 'warn';
        detail = `cancel → ${JSON.stringify(e.workflowId)}`;
        break;
      case 'ExternalWorkflowExecutionCancelRequested':
        tone = 'ok';
        detail = `cancel request #${e.seq} delivered`;
        break;
      case 'RequestCancelExternalWorkflowExecutionFailed':
        tone = 'bad';
        detail = `cancel request #${e.seq}: ${summarizeFailure(e.failure)}`;
        break;
      case 'ChildWorkflowExecutionCancelRequested':
        tone = 'warn';
        detail = child(e.seq);
        break;
      case 'ChildWorkflowExecutionCompleted':
        tone = 'ok';
        detail = `${child(e.seq)} → ${value(e.result)}`;
        break;
      case 'ChildWorkflowExecutionFailed':
        tone = 'bad';
        detail = `${child(e.seq)}: ${summarizeFailure(e.failure)}`;
        break;
      case 'WorkflowExecutionCancelRequested':
        tone = 'warn';
        detail = e.reason ? `reason: ${e.reason}` : '';
        break;
      case 'WorkflowExecutionCompleted':
        tone = 'ok';
        detail = `→ ${value(e.result)}`;
        break;
      case 'WorkflowExecutionFailed':
        tone = 'bad';
        detail = summarizeFailure(e.failure);
        break;
      case 'WorkflowExecutionCanceled':
        tone = 'bad';
        detail = '';
        break;
      case 'WorkflowExecutionTerminated':
        tone = 'bad';
        detail = e.reason ? `reason: ${e.reason}` : '';
        break;
      case 'WorkflowExecutionTimedOut':
        tone = 'bad';
        detail = 'run timeout';
        break;
      case 'WorkflowExecutionContinuedAsNew':
        tone = 'start';
        detail = `new run ${e.newRunId}${args(e.args)}`;
        break;
      default:
        detail = e satisfies never;
    }
    rows.push({
      id: String(e.eventId).padStart(idWidth),
      time: `+${formatDuration(Date.parse(e.eventTime) - t0, 'clock')}`,
      type: e.type,
      tone,
      detail,
    });
  }

  const timeWidth = Math.max(0, ...rows.map((r) => r.time.length));
  const typeWidth = Math.max(0, ...rows.map((r) => r.type.length));
  return rows
    .map((r) => {
      const head = `${c.dim(r.id)}  ${c.dim(r.time.padEnd(timeWidth))}  ${paint(c, r.tone, r.type.padEnd(typeWidth))}`;
      return r.detail ? `${head}  ${r.detail}` : head.trimEnd();
    })
    .join('\n');
}

function paint(c: Colors, tone: Tone, text: string): string {
  switch (tone) {
    case 'start':
      return c.cyan(text);
    case 'ok':
      return c.green(text);
    case 'bad':
      return c.red(text);
    case 'warn':
      return c.yellow(text);
    case 'message':
      return c.magenta(text);
    case 'timer':
      return c.blue(text);
    case 'plain':
      return text;
    default:
      return tone satisfies never;
  }
}

function timerLabel(seq: number, durations: Map<number, number>): string {
  const d = durations.get(seq);
  return d === undefined ? `timer #${seq}` : `timer #${seq} (${formatDuration(d, 'clock')})`;
}

/** `CardDeclined: card declined ← ...cause`, one line. */
export function summarizeFailure(failure: FailureInfo): string {
  const parts: string[] = [];
  let f: FailureInfo | undefined = failure;
  for (let depth = 0; f && depth < 5; depth++, f = f.cause) {
    const label = f.name === 'ApplicationFailure' && f.type ? f.type : f.name;
    parts.push(`${label}: ${oneLine(f.message)}${f.nonRetryable ? ' (non-retryable)' : ''}`);
  }
  return parts.join(' ← ');
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/** A value as compact JSON, cut to `max` characters. */
export function summarizeValue(value: unknown, max: number): string {
  let text: string;
  if (value === undefined) text = 'undefined';
  else {
    try {
      text = terminalJson(JSON.stringify(value) ?? String(value));
    } catch {
      text = String(value);
    }
  }
  return text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text;
}

/** Names and messages come from users: show their control characters escaped (payloads are JSON already). */
function printableEvent(event: HistoryEvent): HistoryEvent {
  const copy: Record<string, unknown> = { ...event };
  for (const key of [
    'workflowId',
    'workflowType',
    'activityType',
    'signalName',
    'updateName',
    'patchId',
    'reason',
  ]) {
    if (typeof copy[key] === 'string') copy[key] = printable(copy[key] as string);
  }
  if (copy.failure) copy.failure = printableFailure(copy.failure as FailureInfo);
  return copy as unknown as HistoryEvent;
}

function printableFailure(failure: FailureInfo): FailureInfo {
  return {
    ...failure,
    message: printable(failure.message.replace(/\s+/g, ' ')),
    ...(failure.type === undefined ? {} : { type: printable(failure.type) }),
    ...(failure.cause ? { cause: printableFailure(failure.cause) } : {}),
  };
}
