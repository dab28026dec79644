export { WorkflowEngine } from './engine.js';
export { outcomeOfClosing } from './outcomes.js';
export type {
  ActivityAttemptOutcome,
  ActivityFunction,
  ClosedRunOutcome,
  ClusterOptions,
  EngineGauges,
  EngineLogger,
  EngineMetrics,
  EngineOptions,
  PauseReason,
  WorkflowCode,
} from './types.js';
