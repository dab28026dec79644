/**
 * Names `@temporalio/workflow` exports that `wfkit/workflow` does not, each with why and what to
 * use instead. The bundler refuses an import of one of them from `wfkit/workflow` with this text,
 * and docs/temporal.md lists them (a test keeps the two in step).
 */
export const UNSUPPORTED_WORKFLOW_NAMES: Readonly<Record<string, string>> = {
  scheduleActivity:
    "it is Temporal's low-level call. Use executeActivity(name, options, ...args) or proxyActivities()",
  scheduleLocalActivity:
    "it is Temporal's low-level call. Use executeActivity(name, options, ...args) or proxyLocalActivities()",
  currentUpdateInfo:
    'wf does not expose the running update yet. Pass what the handler needs (an ID) as an update argument',
  upsertMemo: 'in wf the memo is set at start only (the memo start option)',
  setWorkflowOptions: 'it configures Temporal server features (versioning behaviour) that wf does not have',
  getCurrentDetails:
    "current details are shown by Temporal's web UI, which wf does not have. Expose the state with a query",
  setCurrentDetails:
    "current details are shown by Temporal's web UI, which wf does not have. Expose the state with a query",
  stackTraceQuery:
    'wf answers this itself: `wf describe` shows where the workflow waits, with the source line',
  enhancedStackTraceQuery:
    'wf answers this itself: `wf describe` shows where the workflow waits, with the source line',
  workflowMetadataQuery:
    'wf has no metadata query. List the handlers in your own query if a client needs them',
  proxySinks: "sinks are deprecated in Temporal. Log with `log` from 'wfkit/workflow', or call an activity",
  executeWithLifecycleLogging: "it is internal to Temporal's SDK. Log with `log` from 'wfkit/workflow'",
  workflowLogAttributes: "it is internal to Temporal's SDK. workflowInfo() gives the run's IDs",
  metricMeter: 'wf records no metrics. Count in workflow state, or emit metrics from an activity',
  createNexusServiceClient: 'Nexus operations need a Temporal server. Call the service from an activity',
  NexusOperationCancellationType:
    'Nexus operations need a Temporal server. Call the service from an activity',
  AsyncLocalStorage:
    'wf does not lend AsyncLocalStorage to workflow code. Pass context explicitly (CancellationScope carries cancellation)',
  RootCancellationScope: "it is internal to Temporal's SDK. Use CancellationScope",
  registerSleepImplementation: "it is internal to Temporal's SDK. Use sleep()",
  workflowRandom: 'Math.random() is already seeded per run and replays the same in wf. Use Math.random()',
  getRandomStream: 'Math.random() is already seeded per run and replays the same in wf. Use Math.random()',
  WorkflowError: 'wf reports a broken workflow task its own way (the run pauses and `wf describe` says why)',
  DeterminismViolationError:
    'wf reports non-determinism on the host (NonDeterminismError from wfkit/testing, `wf replay`), not in workflow code',
  LocalActivityDoBackoff: "it is internal to Temporal's SDK",
  NotAnActivityMethod: "it is internal to Temporal's SDK",
  addDefaultWorkflowOptions: "it is internal to Temporal's SDK",
  ChildWorkflowCancellationType:
    'wf children are cancelled one way: the child is asked to cancel and the parent sees how it ends (WAIT_CANCELLATION_COMPLETED). Leave the option out',
  WorkflowIdReusePolicy:
    'child workflows in wf take workflowId and parentClosePolicy only. Leave the option out (client starts take the policy as a string)',
  WorkflowIdConflictPolicy:
    'child workflows in wf take workflowId and parentClosePolicy only. Leave the option out (client starts take the policy as a string)',
  extractWorkflowType: 'pass the workflow function or its name; wf takes the name from the function',
  ServerFailure: 'wf has no server to fail. Catch WfFailure (TemporalFailure) for any failure',
  defaultPayloadConverter: 'wf records JSON and has no payload converters',
  ValueError: 'wf does not throw it. Catch ApplicationFailure or TypeError',
  PayloadConverterError:
    'wf has no payload converters: a value that is not JSON fails with a TypeError that says why',
  IllegalStateError: 'wf does not throw it',
  WorkflowNotFoundError: "it is a client error: import it from 'wfkit/client'",
  NamespaceNotFoundError: 'wf has no namespaces',
  CompleteAsyncError: "it is an activity error: import it from 'wfkit/activity'",
  ExternalStorageNotConfiguredError: 'wf has no external payload storage',
};

/** The message for a name imported from wfkit/workflow that wfkit/workflow does not export. */
export function unsupportedNameMessage(name: string): string {
  const why = Object.hasOwn(UNSUPPORTED_WORKFLOW_NAMES, name) ? UNSUPPORTED_WORKFLOW_NAMES[name] : undefined;
  if (why !== undefined) {
    return `${name} is not supported by wf: ${why}. See docs/temporal.md (Workflows).`;
  }
  return `${name} is not exported by wfkit/workflow: check the spelling, or see docs/temporal.md for what wf provides.`;
}
