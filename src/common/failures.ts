/**
 * Failure classes shared by the sandbox (workflow code throws and catches them) and the host (the
 * client rebuilds them from a run's history). Names and meaning follow Temporal's TypeScript SDK.
 *
 * Each vm context is its own realm with its own copy of these classes, so `instanceof` cannot rely on
 * prototype identity: every class marks its prototype with a `Symbol.for('wf.<Name>')` brand (the
 * symbol registry is shared by all realms) and checks that brand in `Symbol.hasInstance`.
 *
 * This file must stay free of Node imports: it is bundled into the sandbox.
 */

import type { TimeoutType } from './failure-info.js';

export type { TimeoutType };

// biome-ignore lint/suspicious/noExplicitAny: any constructor may be branded
type AnyClass = abstract new (...args: any[]) => unknown;

/**
 * Makes `value instanceof cls` true for any object carrying cls's brand, whatever realm built it.
 * A user subclass that does not define its own `Symbol.hasInstance` keeps ordinary prototype checks,
 * so `instanceof MyFailure` stays precise.
 */
function brand(cls: AnyClass, name: string): void {
  const symbol = Symbol.for(`wf.${name}`);
  Object.defineProperty(cls.prototype, symbol, { value: true, enumerable: false });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: AnyClass, value: unknown): boolean {
      if (this === cls) {
        return (
          typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[symbol] === true
        );
      }
      return Function.prototype[Symbol.hasInstance].call(this, value);
    },
  });
}

/** The base of every failure wf reports across the sandbox boundary and in histories. */
export class WfFailure extends Error {
  override name = 'WfFailure';
  /** The failure that led to this one, as in Temporal (typed `Error`, not `unknown`). */
  declare readonly cause?: Error;
  constructor(message?: string, cause?: Error) {
    super(message ?? '', cause === undefined ? undefined : { cause });
  }
}
brand(WfFailure, 'WfFailure');

/**
 * How serious an application failure is. `BENIGN`: an expected failure (a declined card, a record
 * not found yet): retried and reported as usual, but logged at a lower level (`debug` instead of
 * `warn` in `wf dev`'s output) and recorded with its category in the failure info.
 */
export const ApplicationFailureCategory = {
  BENIGN: 'BENIGN',
} as const;
export type ApplicationFailureCategory =
  (typeof ApplicationFailureCategory)[keyof typeof ApplicationFailureCategory];

export interface ApplicationFailureOptions {
  message?: string;
  /** Application-defined error type; retry policies match `nonRetryableErrorTypes` against it. */
  type?: string;
  nonRetryable?: boolean;
  details?: unknown[];
  cause?: Error;
  /** How serious the failure is (see ApplicationFailureCategory). */
  category?: ApplicationFailureCategory;
}

/**
 * An error thrown on purpose by workflow or activity code. Other errors thrown by activities are
 * converted to an ApplicationFailure whose `type` is the original class name.
 * @example
 * throw ApplicationFailure.nonRetryable('card declined', 'CardDeclined', { orderId });
 */
export class ApplicationFailure extends WfFailure {
  override name = 'ApplicationFailure';
  /** How serious the failure is: `BENIGN` failures are logged at a lower level. Set it with `create`. */
  category?: ApplicationFailureCategory;
  constructor(
    message?: string,
    readonly type?: string,
    readonly nonRetryable = false,
    readonly details: unknown[] = [],
    cause?: Error,
  ) {
    super(message, cause);
  }

  /** An ApplicationFailure from an options object. */
  static create(options: ApplicationFailureOptions): ApplicationFailure {
    const failure = new ApplicationFailure(
      options.message,
      options.type,
      options.nonRetryable ?? false,
      options.details ?? [],
      options.cause,
    );
    if (options.category !== undefined) failure.category = checkCategory(options.category);
    return failure;
  }

  /** A failure the retry policy may retry. */
  static retryable(message?: string, type?: string, ...details: unknown[]): ApplicationFailure {
    return new ApplicationFailure(message, type ?? 'Error', false, details);
  }

  /** A failure that stops retries whatever the retry policy says. */
  static nonRetryable(message?: string, type?: string, ...details: unknown[]): ApplicationFailure {
    return new ApplicationFailure(message, type ?? 'Error', true, details);
  }
}
brand(ApplicationFailure, 'ApplicationFailure');

function checkCategory(category: unknown): ApplicationFailureCategory {
  if (category === ApplicationFailureCategory.BENIGN) return category;
  throw new TypeError(
    `ApplicationFailure category must be one of ${Object.values(ApplicationFailureCategory).join(', ')}; got ${JSON.stringify(category)}`,
  );
}

/** An activity failed for good (retries exhausted, non-retryable, timed out or cancelled); `cause` says why. */
export class ActivityFailure extends WfFailure {
  override name = 'ActivityFailure';
  constructor(
    message: string | undefined,
    readonly activityType: string,
    cause?: Error,
  ) {
    super(message ?? `activity ${activityType} failed`, cause);
  }
}
brand(ActivityFailure, 'ActivityFailure');

/** A child workflow failed, was cancelled, terminated or timed out; `cause` says why. */
export class ChildWorkflowFailure extends WfFailure {
  override name = 'ChildWorkflowFailure';
  constructor(
    message: string | undefined,
    readonly workflowType: string,
    cause?: Error,
  ) {
    super(message ?? `child workflow ${workflowType} failed`, cause);
  }
}
brand(ChildWorkflowFailure, 'ChildWorkflowFailure');

/** A timeout fired: an activity's, or the workflow run's. */
export class TimeoutFailure extends WfFailure {
  override name = 'TimeoutFailure';
  constructor(
    message: string | undefined,
    readonly timeoutType: TimeoutType,
    cause?: Error,
  ) {
    super(message ?? `${timeoutType} timeout`, cause);
  }
}
brand(TimeoutFailure, 'TimeoutFailure');

/** The operation was cancelled (a cancellation scope, a workflow cancel request). */
export class CancelledFailure extends WfFailure {
  override name = 'CancelledFailure';
  constructor(
    message?: string,
    readonly details: unknown[] = [],
    cause?: Error,
  ) {
    super(message ?? 'cancelled', cause);
  }
}
brand(CancelledFailure, 'CancelledFailure');

/** The workflow run was terminated: stopped at once, without running any more of its code. */
export class TerminatedFailure extends WfFailure {
  override name = 'TerminatedFailure';
  constructor(message?: string, cause?: Error) {
    super(message ?? 'terminated', cause);
  }
}
brand(TerminatedFailure, 'TerminatedFailure');
