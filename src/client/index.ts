/**
 * wfkit/client: start, signal, query and wait for workflows, in-process or on a `wf dev` server.
 * @example
 * import { connect } from 'wfkit/client';
 * const client = connect();
 * const receipt = await client.execute(orderWorkflow, { workflowId: 'order-1', args: [order] });
 */

export { DEFAULT_ADDRESS, DEFAULT_PORT } from '../common/defaults.js';
export {
  ActivityNotFoundError,
  InvalidArgumentError,
  QueryFailedError,
  UnknownWorkflowTypeError,
  WfError,
  type WfErrorCode,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowNotRunningError,
  WorkflowUpdateFailedError,
} from '../common/errors.js';
export {
  ActivityFailure,
  ApplicationFailure,
  ApplicationFailureCategory,
  CancelledFailure,
  ChildWorkflowFailure,
  TerminatedFailure,
  TimeoutFailure,
  WfFailure,
} from '../common/failures.js';
export type { FailureInfo, HistoryEvent, RunStatus } from '../history/events.js';
export type { RunSummary } from '../history/store.js';
export type {
  ActivityCompletionService,
  EventNotice,
  FiredTimer,
  RunDescription,
  TimeControl,
  TimeInfo,
  WorkflowOutcome,
  WorkflowService,
} from '../protocol/service.js';
export { AsyncCompletionClient, type TaskToken } from './async-completion.js';
export {
  WorkflowClient,
  type WorkflowClientOptions,
  type WorkflowHandle,
  type WorkflowListFilter,
  type WorkflowResultType,
  type WorkflowSignalWithStartOptions,
  type WorkflowStartOptions,
  type WorkflowStartUpdateOptions,
  type WorkflowUpdateOptions,
  type WorkflowUpdateWithStartOptions,
} from './client.js';
export { type ConnectOptions, connect } from './connect.js';
export { Connection, type ConnectionOptions } from './connection.js';
export { type UnsuccessfulStatus, WorkflowFailedError } from './errors.js';
export {
  HttpWorkflowService,
  type HttpWorkflowServiceOptions,
  type SubscribeOptions,
} from './http-transport.js';
export { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from './id-policies.js';
export {
  type ScheduleActionResult,
  ScheduleClient,
  type ScheduleDescription,
  ScheduleHandle,
  type ScheduleOptions,
  ScheduleOverlapPolicy,
} from './schedule-client.js';
export { Client, type ClientOptions } from './temporal-client.js';
export {
  type GetWorkflowUpdateHandleOptions,
  type WorkflowUpdateHandle,
  WorkflowUpdateStage,
} from './update-handle.js';
export { WithStartWorkflowOperation } from './with-start.js';
