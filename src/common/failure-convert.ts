/**
 * FailureInfo (what histories store and what crosses the sandbox boundary) to errors and back.
 * Free of Node imports: the sandbox uses `errorToFailure` too.
 */

import type { FailureInfo } from './failure-info.js';
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  TerminatedFailure,
  TimeoutFailure,
  type WfFailure,
} from './failures.js';

/** Cause chains longer than this are cut: a cycle, or an error nobody could read anyway. */
const MAX_CAUSE_DEPTH = 32;

/**
 * Rebuilds an error of the right class from a FailureInfo, cause chain included. A failure recorded
 * from a plain error (`Error`, `TypeError`...) becomes an ApplicationFailure whose `type` is that
 * class name, as in Temporal.
 */
export function failureToError(info: FailureInfo, depth = 0): WfFailure {
  const cause = info.cause && depth < MAX_CAUSE_DEPTH ? failureToError(info.cause, depth + 1) : undefined;
  const error = build(info, cause);
  if (info.stack !== undefined) error.stack = info.stack;
  return error;
}

function build(info: FailureInfo, cause: WfFailure | undefined): WfFailure {
  switch (info.name) {
    case 'ActivityFailure':
      return new ActivityFailure(info.message, info.activityType ?? 'unknown', cause);
    case 'ChildWorkflowFailure':
      return new ChildWorkflowFailure(info.message, info.workflowType ?? 'unknown', cause);
    case 'TimeoutFailure':
      return new TimeoutFailure(info.message, info.timeoutType ?? 'START_TO_CLOSE', cause);
    case 'CancelledFailure':
      return new CancelledFailure(info.message, info.details ?? [], cause);
    case 'TerminatedFailure':
      return new TerminatedFailure(info.message, cause);
    default: {
      // ApplicationFailure itself, and every plain error converted on the way in.
      const failure = new ApplicationFailure(
        info.message,
        info.type ?? info.name,
        info.nonRetryable ?? false,
        info.details ?? [],
        cause,
      );
      if (info.category === 'BENIGN') failure.category = info.category;
      return failure;
    }
  }
}

/** Serializes any thrown value to a FailureInfo, cause chain included. */
export function errorToFailure(err: unknown, depth = 0): FailureInfo {
  if (!(err instanceof Error) && !looksLikeError(err)) {
    return { name: 'Error', type: 'Error', message: describeThrown(err) };
  }
  const e = err as Error & { cause?: unknown };
  const info: FailureInfo = {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: String(e.message ?? ''),
  };
  if (typeof e.stack === 'string') info.stack = e.stack;
  if (err instanceof ApplicationFailure) {
    info.name = 'ApplicationFailure';
    if (err.type !== undefined) info.type = err.type;
    info.nonRetryable = err.nonRetryable;
    if (err.details.length) info.details = err.details;
    if (err.category === 'BENIGN') info.category = err.category;
  } else if (err instanceof ActivityFailure) {
    info.name = 'ActivityFailure';
    info.activityType = err.activityType;
  } else if (err instanceof ChildWorkflowFailure) {
    info.name = 'ChildWorkflowFailure';
    info.workflowType = err.workflowType;
  } else if (err instanceof TimeoutFailure) {
    info.name = 'TimeoutFailure';
    info.timeoutType = err.timeoutType;
  } else if (err instanceof CancelledFailure) {
    info.name = 'CancelledFailure';
    if (err.details.length) info.details = err.details;
  } else if (err instanceof TerminatedFailure) {
    info.name = 'TerminatedFailure';
  } else {
    // A plain error: its class name is the type retry policies match against.
    info.type = info.name;
  }
  if (e.cause !== undefined && depth < MAX_CAUSE_DEPTH) info.cause = errorToFailure(e.cause, depth + 1);
  return info;
}

/** Errors from another realm fail `instanceof Error`; recognise them by shape. */
function looksLikeError(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { message?: unknown }).message === 'string' &&
    typeof (value as { name?: unknown }).name === 'string'
  );
}

function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // fall through: circular or BigInt
  }
  return String(value);
}
