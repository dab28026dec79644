export { WorkflowEngine } from './engine.js';
export { outcomeOfClosing } from './outcomes.js';
export type { ActivityFunction, ClusterOptions, EngineLogger, EngineOptions, WorkflowCode } from './types.js';
