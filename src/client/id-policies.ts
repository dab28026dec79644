import type {
  WorkflowIdConflictPolicy as ConflictPolicy,
  WorkflowIdReusePolicy as ReusePolicy,
} from '../history/events.js';

/**
 * What a start does when a closed run with the workflow ID exists (Temporal's names and values).
 * wf has no TERMINATE_IF_RUNNING: use `workflowIdConflictPolicy` for open runs.
 */
export const WorkflowIdReusePolicy = {
  /** Start a new run whatever the closed run's outcome (the default). */
  ALLOW_DUPLICATE: 'ALLOW_DUPLICATE',
  /** Start a new run only if the last one did not complete successfully. */
  ALLOW_DUPLICATE_FAILED_ONLY: 'ALLOW_DUPLICATE_FAILED_ONLY',
  /** Never start a second run with this ID. */
  REJECT_DUPLICATE: 'REJECT_DUPLICATE',
} as const satisfies Record<string, ReusePolicy>;
export type WorkflowIdReusePolicy = (typeof WorkflowIdReusePolicy)[keyof typeof WorkflowIdReusePolicy];

/**
 * What a start does when an open run with the workflow ID exists (Temporal's names and values).
 * wf has no TERMINATE_EXISTING: terminate the open run first, then start.
 */
export const WorkflowIdConflictPolicy = {
  /** Fail with WorkflowExecutionAlreadyStartedError (the default). */
  FAIL: 'FAIL',
  /** Return the open run instead of starting one. */
  USE_EXISTING: 'USE_EXISTING',
} as const satisfies Record<string, ConflictPolicy>;
export type WorkflowIdConflictPolicy =
  (typeof WorkflowIdConflictPolicy)[keyof typeof WorkflowIdConflictPolicy];
