import ms from 'ms';

/** A duration: milliseconds, or a string such as '30s', '5 minutes', '2 days'. */
export type Duration = number | string;

/** Milliseconds of a duration; throws a TypeError naming the option when it is not one. */
export function toMs(duration: Duration, what = 'duration'): number {
  if (typeof duration === 'number') {
    if (!Number.isFinite(duration) || duration < 0) {
      throw new TypeError(`${what} must be a non-negative number of milliseconds, got ${duration}`);
    }
    return duration;
  }
  if (typeof duration === 'string') {
    const value = ms(duration as ms.StringValue);
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      throw new TypeError(
        `${what} ${JSON.stringify(duration)} is not a duration: use milliseconds or a string like '30s', '5m', '2 days'`,
      );
    }
    return value;
  }
  throw new TypeError(`${what} must be milliseconds or a duration string, got ${typeof duration}`);
}

export function optionalMs(duration: Duration | undefined, what: string): number | undefined {
  return duration === undefined ? undefined : toMs(duration, what);
}
