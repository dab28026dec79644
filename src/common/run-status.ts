/** Every status a listed run can have: the statuses of runs, and CORRUPT for an unreadable history. */
export const RUN_STATUSES = [
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELED',
  'TERMINATED',
  'TIMED_OUT',
  'CONTINUED_AS_NEW',
  'CORRUPT',
] as const;
export type RunStatus = Exclude<(typeof RUN_STATUSES)[number], 'CORRUPT'>;

/** The status each closing event gives its run. */
export const CLOSING_STATUS: Readonly<Record<string, RunStatus>> = {
  WorkflowExecutionCompleted: 'COMPLETED',
  WorkflowExecutionFailed: 'FAILED',
  WorkflowExecutionCanceled: 'CANCELED',
  WorkflowExecutionTerminated: 'TERMINATED',
  WorkflowExecutionTimedOut: 'TIMED_OUT',
  WorkflowExecutionContinuedAsNew: 'CONTINUED_AS_NEW',
};
