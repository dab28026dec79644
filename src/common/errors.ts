/**
 * Errors a user of the engine, the client or the CLI can act on. Each carries a stable `code` that
 * the HTTP API and the CLI map to a status and an exit code, and a message that says what to do.
 */
import { failureToError } from './failure-convert.js';
import type { FailureInfo } from './failure-info.js';
import type { WfFailure } from './failures.js';

export type WfErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_STARTED'
  | 'INVALID_ARGUMENT'
  | 'UNKNOWN_WORKFLOW_TYPE'
  | 'NOT_RUNNING'
  | 'QUERY_FAILED'
  | 'UPDATE_REJECTED'
  | 'CORRUPT'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export class WfError extends Error {
  override name = 'WfError';
  constructor(
    readonly code: WfErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No workflow (or run) with this ID. */
export class WorkflowNotFoundError extends WfError {
  override name = 'WorkflowNotFoundError';
  constructor(
    readonly workflowId: string,
    readonly runId?: string,
  ) {
    super(
      'NOT_FOUND',
      runId
        ? `workflow ${JSON.stringify(workflowId)} has no run ${runId}`
        : `no workflow with ID ${JSON.stringify(workflowId)}: check the ID, or list runs with \`wf list\``,
    );
  }
}

/**
 * No activity attempt waits for completion under this task token: it completed, failed, timed out or
 * was cancelled already, or its run closed (Temporal's name).
 */
export class ActivityNotFoundError extends WfError {
  override name = 'ActivityNotFoundError';
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** A run with this workflow ID is open (or the reuse policy refuses a new one). */
export class WorkflowExecutionAlreadyStartedError extends WfError {
  override name = 'WorkflowExecutionAlreadyStartedError';
  constructor(
    readonly workflowId: string,
    readonly workflowType: string,
    readonly runId: string,
    reason: string,
  ) {
    super('ALREADY_STARTED', `workflow ${JSON.stringify(workflowId)} ${reason} (run ${runId})`);
  }
}

/** The workflow type is not exported by the workflows module. */
export class UnknownWorkflowTypeError extends WfError {
  override name = 'UnknownWorkflowTypeError';
  constructor(
    readonly workflowType: string,
    readonly known: string[],
  ) {
    super(
      'UNKNOWN_WORKFLOW_TYPE',
      `unknown workflow type ${JSON.stringify(workflowType)}: the workflows module exports ${
        known.length ? known.map((k) => JSON.stringify(k)).join(', ') : 'no workflows'
      }. Export the function from your workflows entry (src/workflows/index.ts).`,
    );
  }
}

/** A request that can never succeed as sent: bad JSON, bad option, bad ID. */
export class InvalidArgumentError extends WfError {
  override name = 'InvalidArgumentError';
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** The run is closed, so it cannot take this signal, update, cancel or terminate. */
export class WorkflowNotRunningError extends WfError {
  override name = 'WorkflowNotRunningError';
  constructor(
    readonly workflowId: string,
    readonly runId: string,
    readonly status: string,
  ) {
    super('NOT_RUNNING', `workflow ${JSON.stringify(workflowId)} (run ${runId}) is ${status.toLowerCase()}`);
  }
}

/** A query that has no handler or whose handler threw. */
export class QueryFailedError extends WfError {
  override name = 'QueryFailedError';
  /** True when the workflow has no handler for the query (as opposed to a handler that threw). */
  readonly notRegistered: boolean;
  constructor(message: string, options: { notRegistered?: boolean } = {}) {
    super('QUERY_FAILED', message);
    this.notRegistered = options.notRegistered ?? false;
  }
}

/**
 * An update was rejected by its validator, or its handler threw: `cause` is the failure (an
 * ApplicationFailure for an error the code threw), as in Temporal.
 * @example
 * try { await handle.executeUpdate(setDiscount, { args: [90] }); } catch (err) {
 *   if (err instanceof WorkflowUpdateFailedError) console.log(err.cause.message);
 * }
 */
export class WorkflowUpdateFailedError extends WfError {
  override name = 'WorkflowUpdateFailedError';
  declare readonly cause: WfFailure;
  constructor(
    message: string,
    /** The failure as recorded in the history. */
    readonly failure: FailureInfo,
  ) {
    super('UPDATE_REJECTED', message, { cause: failureToError(failure) });
  }
}

/** Who holds a store's lock: written to `<store>/LOCK`. */
export interface StoreLockInfo {
  pid: number;
  hostname: string;
  startedAt: string;
  /** Random per process: tells the holder from a later process with the same pid (PID 1 in a container). */
  token?: string;
  /** The kernel's boot id (Linux): a holder from before a reboot is not running. */
  bootId?: string;
  /** When the holder started, as the OS reports it: tells it from a later process given its pid. */
  processStart?: string;
}

/** Another live process holds the store's lock. */
export class StoreLockedError extends WfError {
  override name = 'StoreLockedError';
  constructor(
    readonly dir: string,
    readonly holder: StoreLockInfo,
    readonly sameHost: boolean,
  ) {
    const lockFile = `${dir}${dir.includes('\\') ? '\\' : '/'}LOCK`;
    super(
      'UNAVAILABLE',
      sameHost
        ? `another wf process (pid ${holder.pid}, started ${holder.startedAt}) is using the store ${dir}: stop it, or use --store to pick another directory. If you are sure no wf process uses this store, remove ${lockFile} and start again.`
        : `another wf process (pid ${holder.pid} on host ${holder.hostname}, started ${holder.startedAt}) is using the store ${dir}: stop it, or use --store to pick another directory. If that host no longer runs wf on this store, remove ${lockFile} and start again.`,
    );
  }
}

/**
 * The machine refused a file operation on a store: a full disk, a used-up quota, missing permissions,
 * a read-only file system, a failing disk. The user's environment, not a bug in wf: the message says
 * what failed, on which path, and what to do.
 */
export class StoreEnvironmentError extends WfError {
  override name = 'StoreEnvironmentError';
  constructor(
    message: string,
    /** The system error code (ENOSPC, EACCES, ...). */
    readonly errno: string,
    /** The path the failed operation was on. */
    readonly path: string | undefined,
    options?: { cause?: unknown },
  ) {
    super('UNAVAILABLE', message, options);
  }
}
