import { InvalidArgumentError } from '../../common/errors.js';
import type { StartWorkflowRequest } from '../../protocol/service.js';

/** Checks a start request before anything is recorded. */
export function validateStart(req: StartWorkflowRequest): void {
  if (typeof req.workflowType !== 'string' || req.workflowType === '') {
    throw new InvalidArgumentError('a workflow type is required');
  }
  if (typeof req.workflowId !== 'string' || req.workflowId === '') {
    throw new InvalidArgumentError('a workflow ID is required');
  }
  if (req.workflowId.length > 1000) {
    throw new InvalidArgumentError(
      `workflow ID is ${req.workflowId.length} characters long; the limit is 1000`,
    );
  }
  if (req.args !== undefined && !Array.isArray(req.args)) {
    throw new InvalidArgumentError('workflow args must be an array (one element per argument)');
  }
  if (req.runTimeoutMs !== undefined && !(req.runTimeoutMs > 0)) {
    throw new InvalidArgumentError('the run timeout must be a positive duration');
  }
}

/** A copy of `args` as JSON would carry them, or a clear error when they cannot be recorded. */
export function jsonArgs(args: unknown[], what: string): unknown[] {
  if (!Array.isArray(args)) throw new InvalidArgumentError(`${what} args must be an array`);
  try {
    return JSON.parse(JSON.stringify(args)) as unknown[];
  } catch (error) {
    throw new InvalidArgumentError(`${what} args are not JSON-serializable: ${(error as Error).message}`);
  }
}

export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

export function decodePageToken(token: string): number {
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64url').toString()) as { offset: number };
    if (Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through
  }
  throw new InvalidArgumentError('nextPageToken is not one this server issued');
}
