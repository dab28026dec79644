import type { Workflow } from './definitions.js';
import { uuidFrom } from './random.js';
import { captureStack, currentRun, hasRunState } from './run-state.js';
import {
  currentSearchAttributes,
  type TypedSearchAttributes,
  typedSearchAttributesOf,
} from './search-attributes.js';

/** What a workflow knows about its own run. Field names and meanings are Temporal's. */
export interface WorkflowInfo {
  readonly workflowId: string;
  readonly runId: string;
  readonly workflowType: string;
  /** wf has one worker per project and no task queues: always `'default'`. */
  readonly taskQueue: string;
  /** wf has no namespaces: always `'default'`. */
  readonly namespace: string;
  /** The run that started the chain of continue-as-new runs (this run's ID if it is the first). */
  readonly firstExecutionRunId: string;
  /** The run that continued as new into this one. */
  readonly continuedFromExecutionRunId?: string;
  /** The attempt of this run, starting at 1. */
  readonly attempt: number;
  /** The workflow that started this one as its child. */
  readonly parent?: { workflowId: string; runId: string; namespace: string };
  readonly memo?: Record<string, unknown>;
  /** The run's search attributes (given at start, then `upsertSearchAttributes`), each a list. */
  readonly searchAttributes: Record<string, unknown[]>;
  /** The same, read by typed key (`defineSearchAttributeKey`). */
  readonly typedSearchAttributes: TypedSearchAttributes;
  /** Events in the history so far. */
  readonly historyLength: number;
  /** True once the history is long enough that the workflow should continue as new. */
  readonly continueAsNewSuggested: boolean;
  /** When this run started (wf records no start time of the chain: the same as `runStartTime`). */
  readonly startTime: Date;
  /** When this run started. */
  readonly runStartTime: Date;
  /** The run timeout (`workflowRunTimeout`), in milliseconds. */
  readonly runTimeoutMs?: number;
  /** wf has no execution timeout across continue-as-new runs: the run timeout, if any. */
  readonly executionTimeoutMs?: number;
  /** When the run times out, if it has a run timeout. */
  readonly executionExpirationTime?: Date;
  readonly unsafe: { readonly isReplaying: boolean; readonly now: () => number };
}

const CONTINUE_AS_NEW_SUGGESTED_AT = 10_000;

/**
 * Information about the running workflow.
 *
 * @example
 * const { workflowId, attempt } = workflowInfo();
 */
export function workflowInfo(): WorkflowInfo {
  const run = currentRun('workflowInfo');
  const info = run.info;
  const runTimeoutMs = info.runTimeoutMs;
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    workflowType: info.workflowType,
    taskQueue: 'default',
    namespace: 'default',
    firstExecutionRunId: info.firstRunId,
    ...(info.continuedFromRunId === undefined
      ? {}
      : { continuedFromExecutionRunId: info.continuedFromRunId }),
    attempt: info.attempt,
    ...(info.parent === undefined ? {} : { parent: { ...info.parent, namespace: 'default' } }),
    ...(info.memo === undefined ? {} : { memo: info.memo }),
    searchAttributes: currentSearchAttributes(run),
    typedSearchAttributes: typedSearchAttributesOf(currentSearchAttributes(run)),
    historyLength: run.historyLength,
    continueAsNewSuggested: run.historyLength >= CONTINUE_AS_NEW_SUGGESTED_AT,
    startTime: new Date(info.startTime),
    runStartTime: new Date(info.startTime),
    ...(runTimeoutMs === undefined
      ? {}
      : {
          runTimeoutMs,
          executionTimeoutMs: runTimeoutMs,
          executionExpirationTime: new Date(info.startTime + runTimeoutMs),
        }),
    unsafe: { isReplaying: run.isReplaying, now: () => run.now },
  };
}

/** True in workflow code (inside wf's sandbox, while a run is active), false anywhere else. */
export function inWorkflowContext(): boolean {
  return hasRunState();
}

/** A random UUID that is the same on every replay of this run. */
export function uuid4(): string {
  return uuidFrom(currentRun('uuid4').random);
}

/**
 * Branches code safely: true in new runs (and records that), false while replaying a history that was
 * recorded before the patch. Once every old run is closed, replace it with `deprecatePatch`.
 *
 * @example
 * if (patched('send-sms')) await sendSms(order); else await sendEmail(order);
 */
export function patched(patchId: string): boolean {
  return decidePatch(patchId, false);
}

/** Marks a patch whose old branch was removed: records the marker in new runs, accepts old histories. */
export function deprecatePatch(patchId: string): void {
  decidePatch(patchId, true);
}

function decidePatch(patchId: string, deprecated: boolean): boolean {
  const run = currentRun(deprecated ? 'deprecatePatch' : 'patched');
  const known = run.patchDecisions.get(patchId);
  if (known !== undefined) return known;
  const use = !run.isReplaying || run.knownPatches.has(patchId);
  run.patchDecisions.set(patchId, use);
  if (use) run.push({ type: 'recordPatch', patchId, deprecated, stack: captureStack() });
  return use;
}

const CONTINUE_AS_NEW = Symbol.for('wf.ContinueAsNew');

/** Thrown by `continueAsNew`: ends this run and starts a new one with a fresh history. */
export class ContinueAsNew extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[CONTINUE_AS_NEW] === true
    );
  }
  override name = 'ContinueAsNew';
  constructor(
    readonly workflowType: string,
    readonly args: unknown[],
  ) {
    super('workflow continued as new');
    Object.defineProperty(this, CONTINUE_AS_NEW, { value: true });
  }
}

/**
 * Closes this run and starts a new run of the same workflow ID with `args` and an empty history.
 *
 * @example
 * if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof counter>(state);
 */
export function continueAsNew<W extends Workflow>(...args: Parameters<W>): Promise<never> {
  const run = currentRun('continueAsNew');
  return Promise.reject(new ContinueAsNew(run.info.workflowType, args));
}

/** Like `continueAsNew`, for another workflow type. */
export function makeContinueAsNewFunc<W extends Workflow>(options: { workflowType?: string } = {}) {
  return (...args: Parameters<W>): Promise<never> => {
    const run = currentRun('continueAsNew');
    return Promise.reject(new ContinueAsNew(options.workflowType ?? run.info.workflowType, args));
  };
}

type LogAttributes = Record<string, unknown>;

function emit(level: 'debug' | 'info' | 'warn' | 'error', message: string, attributes?: LogAttributes): void {
  const run = currentRun('log');
  run.log(attributes === undefined ? { level, message } : { level, message, attributes });
}

/** A logger that is silent while the workflow replays, so each line is written once. */
export const log = {
  debug: (message: string, attributes?: LogAttributes) => emit('debug', message, attributes),
  info: (message: string, attributes?: LogAttributes) => emit('info', message, attributes),
  warn: (message: string, attributes?: LogAttributes) => emit('warn', message, attributes),
  error: (message: string, attributes?: LogAttributes) => emit('error', message, attributes),
};
