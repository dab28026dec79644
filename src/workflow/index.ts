/**
 * `wfkit/workflow`: the API workflow code imports. It runs inside wf's deterministic sandbox; the
 * names and meanings follow Temporal's TypeScript SDK, so workflows move between the two with an
 * import change.
 */

export {
  type ActivityInterfaceFor,
  executeActivity,
  proxyActivities,
  proxyLocalActivities,
} from './activities.js';
export type { ActivityOptions, RetryPolicy } from './activity-options.js';
export { CancellationScope, type CancellationScopeOptions } from './cancellation-scope.js';
export {
  type ChildWorkflowHandle,
  type ChildWorkflowOptions,
  executeChild,
  startChild,
} from './child-workflows.js';
export {
  defineQuery,
  defineSignal,
  defineUpdate,
  type QueryDefinition,
  type SignalDefinition,
  type UpdateDefinition,
  type Workflow,
} from './definitions.js';
export type { Duration } from './duration.js';
export { ActivityCancellationType, ParentClosePolicy } from './enums.js';
export { type ExternalWorkflowHandle, getExternalWorkflowHandle } from './external-workflows.js';
export {
  ActivityFailure,
  ApplicationFailure,
  ApplicationFailureCategory,
  type ApplicationFailureOptions,
  CancelledFailure,
  ChildWorkflowFailure,
  isCancellation,
  rootCause,
  TemporalFailure,
  TerminatedFailure,
  TimeoutFailure,
  WfFailure,
} from './failures.js';
export {
  allHandlersFinished,
  type DefaultQueryHandler,
  type DefaultSignalHandler,
  type DefaultUpdateHandler,
  setDefaultQueryHandler,
  setDefaultSignalHandler,
  setDefaultUpdateHandler,
  setHandler,
  type UpdateHandlerOptions,
} from './handlers.js';
export {
  defineSearchAttributeKey,
  type SearchAttributeKey,
  SearchAttributeType,
  type SearchAttributeUpdatePair,
  type TypedSearchAttributes,
  upsertSearchAttributes,
  upsertTypedSearchAttributes,
} from './search-attributes.js';
export { condition, sleep } from './timers.js';
export { Trigger } from './trigger.js';
export {
  ContinueAsNew,
  continueAsNew,
  deprecatePatch,
  inWorkflowContext,
  log,
  makeContinueAsNewFunc,
  patched,
  uuid4,
  type WorkflowInfo,
  workflowInfo,
} from './workflow-info.js';

import { installGlobalOverrides } from './global-overrides.js';
import { createSandboxRun } from './sandbox-api.js';

/** @internal The host's entry into the sandbox (src/runtime/sandbox.ts). Not for workflow code. */
export const __wfSandbox = { createSandboxRun, installGlobalOverrides };
