import { failureToError } from '../common/failure-convert.js';
import { CancelledFailure, TerminatedFailure, TimeoutFailure, type WfFailure } from '../common/failures.js';
import type { WorkflowOutcome } from '../protocol/service.js';

/** How a run that did not complete closed. */
export type UnsuccessfulStatus = 'FAILED' | 'CANCELED' | 'TERMINATED' | 'TIMED_OUT';

/**
 * A workflow run did not complete: it failed, was cancelled, terminated or timed out. `cause` says
 * which, as in Temporal: an ApplicationFailure (or other failure) for FAILED, a CancelledFailure, a
 * TerminatedFailure or a TimeoutFailure.
 * @example
 * try { await handle.result(); } catch (err) {
 *   if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure) console.log(err.cause.type);
 * }
 */
export class WorkflowFailedError extends Error {
  override name = 'WorkflowFailedError';
  declare readonly cause: WfFailure;
  constructor(
    readonly workflowId: string,
    readonly runId: string | undefined,
    readonly status: UnsuccessfulStatus,
    cause: WfFailure,
  ) {
    super(`workflow ${JSON.stringify(workflowId)} failed: ${cause.message}`, { cause });
  }
}

/** The error `result()` throws for a closed run that did not complete; undefined for COMPLETED. */
export function outcomeToError(
  workflowId: string,
  runId: string | undefined,
  outcome: WorkflowOutcome,
): WorkflowFailedError | undefined {
  switch (outcome.status) {
    case 'COMPLETED':
    case 'CONTINUED_AS_NEW':
      return undefined;
    case 'FAILED':
      return new WorkflowFailedError(workflowId, runId, 'FAILED', failureToError(outcome.failure));
    case 'CANCELED':
      return new WorkflowFailedError(
        workflowId,
        runId,
        'CANCELED',
        new CancelledFailure('workflow cancelled'),
      );
    case 'TERMINATED':
      return new WorkflowFailedError(
        workflowId,
        runId,
        'TERMINATED',
        new TerminatedFailure(
          outcome.reason ? `workflow terminated: ${outcome.reason}` : 'workflow terminated',
        ),
      );
    case 'TIMED_OUT':
      return new WorkflowFailedError(
        workflowId,
        runId,
        'TIMED_OUT',
        new TimeoutFailure('workflow run timed out', 'WORKFLOW_RUN'),
      );
    default:
      return outcome satisfies never;
  }
}
