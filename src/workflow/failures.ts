/**
 * The failure classes workflow code throws and catches. One definition, shared with activities and
 * clients (src/common/failures.ts); `instanceof` works across vm realms through a registered brand.
 */
import { ActivityFailure, CancelledFailure, ChildWorkflowFailure, WfFailure } from '../common/failures.js';

export { errorToFailure, failureToError } from '../common/failure-convert.js';
export {
  ActivityFailure,
  ApplicationFailure,
  ApplicationFailureCategory,
  type ApplicationFailureOptions,
  CancelledFailure,
  ChildWorkflowFailure,
  TerminatedFailure,
  TimeoutFailure,
  WfFailure,
} from '../common/failures.js';

/** Temporal's name for the base class of every failure. */
export const TemporalFailure = WfFailure;
export type TemporalFailure = WfFailure;

/** True for a CancelledFailure, or an ActivityFailure / ChildWorkflowFailure caused by one. */
export function isCancellation(error: unknown): boolean {
  if (error instanceof CancelledFailure) return true;
  if (error instanceof ActivityFailure || error instanceof ChildWorkflowFailure) {
    return (error as Error).cause instanceof CancelledFailure;
  }
  return false;
}

/**
 * The message of the innermost cause of `error` (following the `cause` of each failure), as in Temporal.
 *
 * @example
 * log.warn('payment failed', { reason: rootCause(err) });
 */
export function rootCause(error: unknown): string | undefined {
  if (error instanceof WfFailure) return error.cause ? rootCause(error.cause) : error.message;
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : undefined;
}
