/**
 * WfError over the wire: the HTTP server writes `{ error: { code, name, message, details } }` and
 * the HTTP transport rebuilds the same subclass from it, so a caller sees the same error whether the
 * engine runs in-process or behind `wf dev`.
 */

import {
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
} from './errors.js';
import type { FailureInfo } from './failure-info.js';

export interface WireError {
  code: WfErrorCode;
  /** Class name on the server (`WorkflowNotFoundError`...). */
  name?: string;
  message: string;
  /** The error's own fields (`workflowId`, `runId`, `status`...), JSON values only. */
  details?: Record<string, unknown>;
}

const CODES = new Set<WfErrorCode>([
  'NOT_FOUND',
  'ALREADY_STARTED',
  'INVALID_ARGUMENT',
  'UNKNOWN_WORKFLOW_TYPE',
  'NOT_RUNNING',
  'QUERY_FAILED',
  'UPDATE_REJECTED',
  'CORRUPT',
  'UNAVAILABLE',
  'INTERNAL',
]);

export function isWfErrorCode(value: unknown): value is WfErrorCode {
  return typeof value === 'string' && CODES.has(value as WfErrorCode);
}

const SKIPPED_FIELDS = new Set(['name', 'message', 'code', 'stack', 'cause']);

export function wfErrorToWire(err: WfError): WireError {
  const details: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(err)) {
    if (SKIPPED_FIELDS.has(key) || value === undefined) continue;
    if (!isJsonSafe(value)) continue;
    details[key] = value;
  }
  const wire: WireError = { code: err.code, name: err.name, message: err.message };
  if (Object.keys(details).length) wire.details = details;
  return wire;
}

function isJsonSafe(value: unknown): boolean {
  try {
    JSON.stringify(value);
    return typeof value !== 'function' && typeof value !== 'symbol';
  } catch {
    return false;
  }
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function optStr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The WfError subclass a wire error came from, message and fields restored. */
export function wfErrorFromWire(wire: WireError): WfError {
  const d = wire.details ?? {};
  let err: WfError;
  switch (wire.code) {
    case 'NOT_FOUND':
      err =
        wire.name === 'ActivityNotFoundError'
          ? new ActivityNotFoundError(wire.message)
          : new WorkflowNotFoundError(str(d.workflowId), optStr(d.runId));
      break;
    case 'ALREADY_STARTED':
      err = new WorkflowExecutionAlreadyStartedError(
        str(d.workflowId),
        str(d.workflowType),
        str(d.runId),
        '',
      );
      break;
    case 'UNKNOWN_WORKFLOW_TYPE':
      err = new UnknownWorkflowTypeError(
        str(d.workflowType),
        Array.isArray(d.known) ? d.known.filter((k): k is string => typeof k === 'string') : [],
      );
      break;
    case 'INVALID_ARGUMENT':
      err = new InvalidArgumentError(wire.message);
      break;
    case 'NOT_RUNNING':
      err = new WorkflowNotRunningError(str(d.workflowId), str(d.runId), str(d.status) || 'CLOSED');
      break;
    case 'QUERY_FAILED':
      err = new QueryFailedError(wire.message);
      break;
    case 'UPDATE_REJECTED':
      err =
        typeof d.failure === 'object' && d.failure !== null
          ? new WorkflowUpdateFailedError(wire.message, d.failure as FailureInfo)
          : new WfError('UPDATE_REJECTED', wire.message);
      break;
    default:
      // Codes without a subclass yet (CORRUPT, UNAVAILABLE, INTERNAL).
      err = new WfError(isWfErrorCode(wire.code) ? wire.code : 'INTERNAL', wire.message);
      if (wire.name) err.name = wire.name;
  }
  err.message = wire.message;
  // Fields the subclass does not take in its constructor (an update's failure...) ride along.
  for (const [key, value] of Object.entries(d)) {
    if (!(key in err)) (err as unknown as Record<string, unknown>)[key] = value;
  }
  return err;
}
