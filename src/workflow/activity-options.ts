import type { ActivityOptionsRecord, RetryPolicyRecord } from '../history/events.js';
import { type Duration, MAX_DURATION_MS, optionalMs, toMs } from './duration.js';
import { ActivityCancellationType } from './enums.js';

/** How an activity is retried. Defaults are Temporal's. */
export interface RetryPolicy {
  /** Delay before the first retry. Default 1s. */
  initialInterval?: Duration;
  /** Each retry waits this many times longer than the last. Default 2. */
  backoffCoefficient?: number;
  /** Cap on the delay between retries. Default 100 × initialInterval. */
  maximumInterval?: Duration;
  /** Attempts in all, the first included. 0 or absent: unlimited. */
  maximumAttempts?: number;
  /** ApplicationFailure types that are never retried. */
  nonRetryableErrorTypes?: string[];
}

/** How long an activity may take and how it is retried. One of the two close timeouts is required. */
export interface ActivityOptions {
  /** Longest a single attempt may run. */
  startToCloseTimeout?: Duration;
  /** Longest the activity may take from scheduling to its final outcome, retries included. */
  scheduleToCloseTimeout?: Duration;
  /** Longest between heartbeats before the attempt is considered lost. */
  heartbeatTimeout?: Duration;
  retry?: RetryPolicy;
  /**
   * What cancelling the activity's scope does. Default TRY_CANCEL: the activity is told and the
   * workflow sees the cancellation at once (Temporal's default is WAIT_CANCELLATION_COMPLETED).
   */
  cancellationType?: ActivityCancellationType;
}

export const ACTIVITY_OPTION_KEYS = new Set([
  'startToCloseTimeout',
  'scheduleToCloseTimeout',
  'heartbeatTimeout',
  'retry',
  'cancellationType',
  'scheduleToStartTimeout',
  'taskQueue',
  'activityId',
  'summary',
]);

/** Validates activity options and fills in Temporal's defaults. Throws a TypeError saying what is wrong. */
export function compileActivityOptions(options: ActivityOptions): ActivityOptionsRecord {
  const startToCloseTimeoutMs = optionalMs(options.startToCloseTimeout, 'startToCloseTimeout');
  const scheduleToCloseTimeoutMs = optionalMs(options.scheduleToCloseTimeout, 'scheduleToCloseTimeout');
  const heartbeatTimeoutMs = optionalMs(options.heartbeatTimeout, 'heartbeatTimeout');
  if (startToCloseTimeoutMs === undefined && scheduleToCloseTimeoutMs === undefined) {
    throw new TypeError(
      'activity options need startToCloseTimeout or scheduleToCloseTimeout, e.g. proxyActivities({ startToCloseTimeout: "1 minute" })',
    );
  }
  for (const [name, value] of [
    ['startToCloseTimeout', startToCloseTimeoutMs],
    ['scheduleToCloseTimeout', scheduleToCloseTimeoutMs],
    ['heartbeatTimeout', heartbeatTimeoutMs],
  ] as const) {
    if (value === 0) throw new TypeError(`${name} must be greater than 0`);
  }
  const record: ActivityOptionsRecord = { retry: compileRetryPolicy(options.retry ?? {}) };
  if (startToCloseTimeoutMs !== undefined) record.startToCloseTimeoutMs = startToCloseTimeoutMs;
  if (scheduleToCloseTimeoutMs !== undefined) record.scheduleToCloseTimeoutMs = scheduleToCloseTimeoutMs;
  if (heartbeatTimeoutMs !== undefined) record.heartbeatTimeoutMs = heartbeatTimeoutMs;
  const cancellationType = compileCancellationType(options.cancellationType);
  if (cancellationType !== undefined) record.cancellationType = cancellationType;
  return record;
}

export function compileRetryPolicy(retry: RetryPolicy): RetryPolicyRecord {
  const initialIntervalMs = toMs(retry.initialInterval ?? 1000, 'retry.initialInterval');
  if (initialIntervalMs <= 0) throw new TypeError('retry.initialInterval must be greater than 0');
  const backoffCoefficient = retry.backoffCoefficient ?? 2;
  if (!(backoffCoefficient >= 1))
    throw new TypeError(`retry.backoffCoefficient must be at least 1, got ${backoffCoefficient}`);
  if (!Number.isFinite(backoffCoefficient))
    throw new TypeError(`retry.backoffCoefficient must be a finite number, got ${backoffCoefficient}`);
  // The default (100 times the initial interval) stays within the longest duration wf accepts.
  const maximumIntervalMs = toMs(
    retry.maximumInterval ?? Math.min(initialIntervalMs * 100, MAX_DURATION_MS),
    'retry.maximumInterval',
  );
  if (maximumIntervalMs < initialIntervalMs) {
    throw new TypeError('retry.maximumInterval must be at least retry.initialInterval');
  }
  const maximumAttempts = retry.maximumAttempts ?? 0;
  if (!Number.isInteger(maximumAttempts) || maximumAttempts < 0) {
    throw new TypeError(
      `retry.maximumAttempts must be a whole number >= 0 (0 = unlimited), got ${maximumAttempts}`,
    );
  }
  const nonRetryableErrorTypes = retry.nonRetryableErrorTypes ?? [];
  if (!Array.isArray(nonRetryableErrorTypes) || nonRetryableErrorTypes.some((t) => typeof t !== 'string')) {
    throw new TypeError('retry.nonRetryableErrorTypes must be an array of error type names');
  }
  return {
    initialIntervalMs,
    backoffCoefficient,
    maximumIntervalMs,
    maximumAttempts,
    nonRetryableErrorTypes,
  };
}

const CANCELLATION_TYPES: readonly string[] = Object.values(ActivityCancellationType);

/** TRY_CANCEL is left out of the record: histories recorded before the option read the same. */
function compileCancellationType(value: unknown): ActivityOptionsRecord['cancellationType'] {
  if (value === undefined || value === 'TRY_CANCEL') return undefined;
  if (typeof value !== 'string' || !CANCELLATION_TYPES.includes(value)) {
    throw new TypeError(
      `cancellationType must be one of ${CANCELLATION_TYPES.join(', ')} (ActivityCancellationType), got ${JSON.stringify(value)}`,
    );
  }
  return value as ActivityOptionsRecord['cancellationType'];
}
