import ms from 'ms';
import { InvalidArgumentError } from './errors.js';

/** A duration: milliseconds, or a string such as '30s', '5 minutes', '2 days'. Free of Node imports (sandbox-safe). */
export type Duration = number | string;

/**
 * The longest duration wf accepts anywhere (timers, timeouts, retry intervals): 100 years of 365.25
 * days. A fixed figure, not "whatever a Date can still hold from now", so a workflow's timers are
 * judged the same way when its history is replayed years later.
 */
export const MAX_DURATION_MS = 100 * 365.25 * 24 * 60 * 60 * 1000;

/**
 * Milliseconds of a duration; throws a TypeError naming the option (`what`) when it is not one, or is
 * longer than MAX_DURATION_MS.
 */
export function toMs(duration: Duration, what = 'duration'): number {
  const parsed =
    typeof duration === 'number'
      ? duration
      : typeof duration === 'string'
        ? ms(duration.trim() as ms.StringValue)
        : Number.NaN;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    throw new TypeError(
      `${what} must be a duration in milliseconds or a string like '30s', '5m', '2 days'; got ${JSON.stringify(duration)}`,
    );
  }
  if (parsed > MAX_DURATION_MS) {
    throw new TypeError(
      `${what} is too long: ${JSON.stringify(duration)} is more than 100 years (${MAX_DURATION_MS} ms), the longest duration wf accepts`,
    );
  }
  return parsed;
}

export function optionalMs(duration: Duration | undefined, what: string): number | undefined {
  return duration === undefined ? undefined : toMs(duration, what);
}

/** Like `toMs`, for input from clients and flags: a bad duration is an InvalidArgumentError. */
export function parseDuration(value: Duration, what: string): number {
  try {
    return toMs(value, what);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}
