/**
 * The narrow interface between the host (src/runtime) and the sandbox (src/workflow): jobs go in,
 * commands come out. Both are plain JSON-compatible data so that nothing of one realm leaks into the
 * other.
 */
import type {
  ActivityOptionsRecord,
  FailureInfo,
  ParentClosePolicy,
  SearchAttributes,
} from '../history/events.js';

export interface RunInfoInput {
  workflowId: string;
  runId: string;
  workflowType: string;
  firstRunId: string;
  continuedFromRunId?: string;
  attempt: number;
  parent?: { workflowId: string; runId: string };
  memo?: Record<string, unknown>;
  searchAttributes?: SearchAttributes;
  randomnessSeed: string;
  startTime: number;
  runTimeoutMs?: number;
}

export type Job =
  | { type: 'startWorkflow'; args: unknown[] }
  | { type: 'resolveActivity'; seq: number; result: unknown }
  | { type: 'failActivity'; seq: number; failure: FailureInfo }
  | { type: 'fireTimer'; seq: number }
  | { type: 'resolveChild'; seq: number; result: unknown }
  | { type: 'failChild'; seq: number; failure: FailureInfo }
  | { type: 'signal'; name: string; args: unknown[] }
  | { type: 'update'; id: string; name: string; args: unknown[] }
  | { type: 'cancelWorkflow'; reason?: string }
  | { type: 'resolveSignalExternal'; seq: number }
  | { type: 'failSignalExternal'; seq: number; failure: FailureInfo };

/** One activation: the jobs of one inbound event, at the time that event was recorded. */
export interface Activation {
  jobs: Job[];
  now: number;
  isReplaying: boolean;
  historyLength: number;
  /** Format the stacks of replayed commands too (to report where the code diverges). */
  captureStacks?: boolean;
}

export interface CommandBase {
  /** Stack at the call that issued the command, for mapping back to the user's source. */
  stack?: string;
}

export type Command = CommandBase &
  (
    | {
        type: 'scheduleActivity';
        seq: number;
        activityType: string;
        args: unknown[];
        options: ActivityOptionsRecord;
      }
    | { type: 'requestCancelActivity'; seq: number }
    | { type: 'startTimer'; seq: number; durationMs: number; summary?: string }
    | { type: 'cancelTimer'; seq: number }
    | {
        type: 'startChild';
        seq: number;
        workflowType: string;
        workflowId: string;
        runId: string;
        args: unknown[];
        parentClosePolicy: ParentClosePolicy;
      }
    | { type: 'requestCancelChild'; seq: number }
    | { type: 'cancelExternal'; seq: number; workflowId: string; runId?: string }
    | {
        type: 'signalExternal';
        seq: number;
        workflowId: string;
        runId?: string;
        signalName: string;
        args: unknown[];
      }
    | { type: 'recordPatch'; patchId: string; deprecated: boolean }
    | { type: 'upsertSearchAttributes'; searchAttributes: SearchAttributes }
    | { type: 'completeUpdate'; id: string; result?: unknown; failure?: FailureInfo }
    | { type: 'completeWorkflow'; result: unknown }
    | { type: 'failWorkflow'; failure: FailureInfo }
    | { type: 'cancelWorkflow' }
    | { type: 'continueAsNew'; workflowType: string; args: unknown[] }
  );

export type CommandType = Command['type'];

export type UpdateValidation = { accepted: true } | { accepted: false; failure: FailureInfo };

export type QueryOutcome = { ok: true; result: unknown } | { ok: false; failure: FailureInfo };

/** Something the workflow awaits (for non-determinism reports): what, and the stack that started it. */
export interface WaitPointInfo {
  description: string;
  stack?: string;
}

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  attributes?: Record<string, unknown>;
}

/**
 * What one instance of the sandbox runtime offers the host. A fresh instance (fresh module graph) is
 * made per run; all calls are synchronous.
 */
export interface SandboxRunApi {
  /** Called once before the first activation. */
  init(info: RunInfoInput): void;
  /** Runs the activation's jobs; microtasks run after the call returns (the host's script ends). */
  activate(activation: Activation): void;
  /** Resolves conditions that became true; returns whether any did (the host drains and calls again). */
  checkConditions(): boolean;
  /** Commands issued since the last call. */
  takeCommands(): Command[];
  query(name: string, args: unknown[]): QueryOutcome;
  validateUpdate(id: string, name: string, args: unknown[]): UpdateValidation;
  /** Patch ids recorded in the run's history, given before replay. */
  setKnownPatches(patchIds: string[]): void;
  /** What the workflow awaits now, latest first. */
  waitPoints(): WaitPointInfo[];
  /**
   * The source text of the workflow function (or of an update handler), for locating it in the
   * bundle: completing the workflow or an update has no call of its own to point at.
   */
  functionSource(kind: 'workflow' | 'update', name?: string): string | undefined;
  /** Why the last activation failed unexpectedly (our bug or a broken sandbox), if it did. */
  takeFatalError(): FailureInfo | undefined;
  /**
   * `setTimeout` in workflow code: a durable timer that calls `callback` when it fires; returns
   * the handle `clearTimeout` takes.
   */
  setTimeout(callback: (...args: unknown[]) => void, ms: number, args: unknown[]): number;
  /** `clearTimeout` in workflow code: cancels the durable timer, if it has not fired. */
  clearTimeout(handle: number): void;
  /** Deterministic clock and randomness for the global overrides. */
  now(): number;
  random(): number;
  log(record: LogRecord): void;
}
