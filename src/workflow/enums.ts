/**
 * Temporal's enum-like objects: each member's value is its string form, so code may pass either
 * `ParentClosePolicy.ABANDON` or `'ABANDON'`.
 */

/**
 * What happens to a child workflow when its parent closes.
 *
 * @example
 * await startChild(shipOrder, { args: [order], parentClosePolicy: ParentClosePolicy.ABANDON });
 */
export const ParentClosePolicy = {
  /** The child is terminated (the default). */
  TERMINATE: 'TERMINATE',
  /** Nothing is done to the child. */
  ABANDON: 'ABANDON',
  /** The child is asked to cancel. */
  REQUEST_CANCEL: 'REQUEST_CANCEL',
  /** @deprecated Leave the option out instead. */
  PARENT_CLOSE_POLICY_UNSPECIFIED: undefined,
  /** @deprecated Use `ParentClosePolicy.TERMINATE`. */
  PARENT_CLOSE_POLICY_TERMINATE: 'TERMINATE',
  /** @deprecated Use `ParentClosePolicy.ABANDON`. */
  PARENT_CLOSE_POLICY_ABANDON: 'ABANDON',
  /** @deprecated Use `ParentClosePolicy.REQUEST_CANCEL`. */
  PARENT_CLOSE_POLICY_REQUEST_CANCEL: 'REQUEST_CANCEL',
} as const;
export type ParentClosePolicy = (typeof ParentClosePolicy)[keyof typeof ParentClosePolicy];

/**
 * How cancelling the scope an activity runs in reaches the activity and the workflow.
 *
 * @example
 * const { slowReport } = proxyActivities<typeof activities>({
 *   startToCloseTimeout: '1 hour',
 *   cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
 * });
 */
export const ActivityCancellationType = {
  /** The activity is not told; the workflow sees the cancellation at once. */
  ABANDON: 'ABANDON',
  /** The activity is told (its `Context.cancelled` rejects); the workflow sees the cancellation at once. wf's default. */
  TRY_CANCEL: 'TRY_CANCEL',
  /** The activity is told; the workflow waits until the activity ends (cancelled, or completed or failed anyway). */
  WAIT_CANCELLATION_COMPLETED: 'WAIT_CANCELLATION_COMPLETED',
} as const;
export type ActivityCancellationType =
  (typeof ActivityCancellationType)[keyof typeof ActivityCancellationType];
