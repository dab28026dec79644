import type { FailureInfo, TimeoutType } from '../history/events.js';

/**
 * Failure classes shared by workflow code, activities and clients. Each vm context is its own realm,
 * so `instanceof` checks a brand (a registered symbol) rather than the prototype chain: an
 * ApplicationFailure thrown in one realm is an ApplicationFailure in every other.
 */
function brand(name: string): symbol {
  return Symbol.for(`wf.failure.${name}`);
}

function hasBrand(value: unknown, mark: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[mark] === true;
}

const FAILURE = brand('WorkflowFailure');

/** Base of every failure wf raises or records. */
export class TemporalFailure extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, FAILURE);
  }
  constructor(message?: string, options?: { cause?: unknown }) {
    super(message ?? '', options);
    Object.defineProperty(this, FAILURE, { value: true });
  }
}

const APPLICATION = brand('ApplicationFailure');

export interface ApplicationFailureOptions {
  message?: string;
  type?: string;
  nonRetryable?: boolean;
  details?: unknown[];
  cause?: Error;
}

/**
 * An error raised by application code (workflow or activity). `type` is matched against a retry
 * policy's `nonRetryableErrorTypes`; `nonRetryable` stops retries outright.
 *
 * @example
 * throw ApplicationFailure.nonRetryable('card declined', 'CardDeclined', { code: 51 });
 */
export class ApplicationFailure extends TemporalFailure {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, APPLICATION);
  }
  override name = 'ApplicationFailure';
  readonly type: string;
  readonly nonRetryable: boolean;
  readonly details: unknown[];

  constructor(message?: string, type?: string, nonRetryable = false, details: unknown[] = [], cause?: Error) {
    super(message, cause ? { cause } : undefined);
    Object.defineProperty(this, APPLICATION, { value: true });
    this.type = type ?? 'Error';
    this.nonRetryable = nonRetryable;
    this.details = details;
  }

  static create(options: ApplicationFailureOptions): ApplicationFailure {
    return new ApplicationFailure(
      options.message,
      options.type,
      options.nonRetryable ?? false,
      options.details ?? [],
      options.cause,
    );
  }

  /** A failure that the retry policy may retry. */
  static retryable(message?: string, type?: string, ...details: unknown[]): ApplicationFailure {
    return new ApplicationFailure(message, type, false, details);
  }

  /** A failure that is never retried, whatever the retry policy says. */
  static nonRetryable(message?: string, type?: string, ...details: unknown[]): ApplicationFailure {
    return new ApplicationFailure(message, type, true, details);
  }

  static fromError(error: unknown): ApplicationFailure {
    if (error instanceof ApplicationFailure) return error;
    if (error instanceof Error) {
      const failure = new ApplicationFailure(error.message, error.name);
      failure.stack = error.stack;
      return failure;
    }
    return new ApplicationFailure(String(error));
  }
}

const ACTIVITY = brand('ActivityFailure');

/** An activity failed after its retries; `cause` says why (ApplicationFailure, TimeoutFailure, CancelledFailure). */
export class ActivityFailure extends TemporalFailure {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, ACTIVITY);
  }
  override name = 'ActivityFailure';
  constructor(
    message: string,
    readonly activityType: string,
    readonly activityId: string,
    cause?: Error,
  ) {
    super(message, cause ? { cause } : undefined);
    Object.defineProperty(this, ACTIVITY, { value: true });
  }
}

const CHILD = brand('ChildWorkflowFailure');

/** A child workflow did not complete; `cause` says how it closed. */
export class ChildWorkflowFailure extends TemporalFailure {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, CHILD);
  }
  override name = 'ChildWorkflowFailure';
  constructor(
    message: string,
    readonly workflowType: string,
    readonly workflowId: string,
    cause?: Error,
  ) {
    super(message, cause ? { cause } : undefined);
    Object.defineProperty(this, CHILD, { value: true });
  }
}

const TIMEOUT = brand('TimeoutFailure');

/** A timeout fired: an activity's start-to-close, schedule-to-close or heartbeat timeout, or a run timeout. */
export class TimeoutFailure extends TemporalFailure {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, TIMEOUT);
  }
  override name = 'TimeoutFailure';
  constructor(
    message: string,
    readonly timeoutType: TimeoutType,
    readonly lastHeartbeatDetails?: unknown,
  ) {
    super(message);
    Object.defineProperty(this, TIMEOUT, { value: true });
  }
}

const CANCELLED = brand('CancelledFailure');

/** Work was cancelled: a cancellation scope, the workflow, an activity or a child. */
export class CancelledFailure extends TemporalFailure {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, CANCELLED);
  }
  override name = 'CancelledFailure';
  constructor(
    message = 'cancelled',
    readonly details: unknown[] = [],
  ) {
    super(message);
    Object.defineProperty(this, CANCELLED, { value: true });
  }
}

const TERMINATED = brand('TerminatedFailure');

/** The workflow was terminated: it ran no more code and recorded no result. */
export class TerminatedFailure extends TemporalFailure {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, TERMINATED);
  }
  override name = 'TerminatedFailure';
  constructor(message = 'terminated') {
    super(message);
    Object.defineProperty(this, TERMINATED, { value: true });
  }
}

/** True for a CancelledFailure, or an ActivityFailure / ChildWorkflowFailure caused by one. */
export function isCancellation(error: unknown): boolean {
  if (error instanceof CancelledFailure) return true;
  if (error instanceof ActivityFailure || error instanceof ChildWorkflowFailure) {
    return error.cause instanceof CancelledFailure;
  }
  return false;
}

/** Turns any thrown value into a FailureInfo that can be recorded and sent anywhere. */
export function errorToFailure(error: unknown): FailureInfo {
  if (!isErrorLike(error)) {
    return { name: 'Error', type: 'Error', message: typeof error === 'string' ? error : safeString(error) };
  }
  const err = error;
  const info: FailureInfo = { name: err.name || 'Error', message: err.message ?? '' };
  if (err.stack) info.stack = err.stack;
  if (err instanceof ApplicationFailure) {
    info.type = err.type;
    if (err.nonRetryable) info.nonRetryable = true;
    if (err.details.length) info.details = err.details;
  } else if (err instanceof TimeoutFailure) {
    info.timeoutType = err.timeoutType;
  } else if (err instanceof ActivityFailure) {
    info.activityType = err.activityType;
  } else if (err instanceof ChildWorkflowFailure) {
    info.workflowType = err.workflowType;
  } else if (err instanceof CancelledFailure) {
    if (err.details.length) info.details = err.details;
  } else if (!(err instanceof TemporalFailure)) {
    info.type = err.name || 'Error';
  }
  if (err.cause !== undefined && err.cause !== err) info.cause = errorToFailure(err.cause);
  return info;
}

/** Rebuilds an error of the right class from a FailureInfo, in the realm that calls it. */
export function failureToError(info: FailureInfo): Error {
  const cause = info.cause ? failureToError(info.cause) : undefined;
  let error: Error;
  switch (info.name) {
    case 'ActivityFailure':
      error = new ActivityFailure(info.message, info.activityType ?? 'unknown', '', cause);
      break;
    case 'ChildWorkflowFailure':
      error = new ChildWorkflowFailure(info.message, info.workflowType ?? 'unknown', '', cause);
      break;
    case 'TimeoutFailure':
      error = new TimeoutFailure(info.message, info.timeoutType ?? 'START_TO_CLOSE');
      break;
    case 'CancelledFailure':
      error = new CancelledFailure(info.message, info.details ?? []);
      break;
    case 'TerminatedFailure':
      error = new TerminatedFailure(info.message);
      break;
    default:
      error = new ApplicationFailure(info.message, info.type ?? info.name, info.nonRetryable ?? false, info.details ?? [], cause);
  }
  if (info.stack) error.stack = info.stack;
  return error;
}

/** Errors from another realm (a vm context) fail `instanceof Error`, so look at their shape. */
function isErrorLike(value: unknown): value is Error {
  return (
    value instanceof Error ||
    (typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string')
  );
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
