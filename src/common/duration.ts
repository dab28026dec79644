import ms from 'ms';
import { InvalidArgumentError } from './errors.js';

/** A duration given as milliseconds or as an `ms` string ('30s', '2 days', '1.5h'). */
export type Duration = number | string;

/**
 * Milliseconds from a duration. `what` names the option in the error message, e.g. 'workflowRunTimeout'.
 * Throws InvalidArgumentError for anything that is not a finite, non-negative duration.
 */
export function parseDuration(value: Duration, what: string): number {
  const parsed = typeof value === 'number' ? value : ms(value.trim() as ms.StringValue);
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    throw new InvalidArgumentError(
      `${what} must be a duration in milliseconds or a string like '30s', '5m', '2h'; got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}
