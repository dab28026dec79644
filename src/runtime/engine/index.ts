export { WorkflowEngine } from './engine.js';
export { outcomeOfClosing } from './outcomes.js';
export type { RecoveryProgress } from './recovery.js';
export type {
  ActivityAttemptOutcome,
  ActivityFunction,
  ClosedRunOutcome,
  ClusterOptions,
  EngineGauges,
  EngineLogger,
  EngineMetrics,
  EngineOptions,
  EngineSpan,
  EngineTracing,
  LinkedSpan,
  PauseReason,
  TraceIds,
  WorkflowCode,
} from './types.js';
