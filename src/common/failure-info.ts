/**
 * Part of history format v1 (src/history/events.ts re-exports it), kept in the bottom layer because
 * the failure classes here convert to and from it. Free of Node imports: the sandbox bundles it.
 */

/** A serialized error: what crosses the sandbox boundary and what the history stores. */
export interface FailureInfo {
  message: string;
  /** Error class name on the side that threw (`Error`, `ApplicationFailure`, `ActivityFailure`...). */
  name: string;
  /** Application-defined type (ApplicationFailure.type), or the class name of a plain error. */
  type?: string;
  nonRetryable?: boolean;
  /** ApplicationFailure.category: `BENIGN` for an expected failure (logged at a lower level). */
  category?: 'BENIGN';
  details?: unknown[];
  stack?: string;
  /** For timeouts: which timeout fired. */
  timeoutType?: TimeoutType;
  /** For ActivityFailure / ChildWorkflowFailure: what failed. */
  activityType?: string;
  workflowType?: string;
  cause?: FailureInfo;
}

export type TimeoutType = 'START_TO_CLOSE' | 'SCHEDULE_TO_CLOSE' | 'HEARTBEAT' | 'WORKFLOW_RUN';
