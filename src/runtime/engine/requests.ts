import { InvalidArgumentError } from '../../common/errors.js';
import { payloadJson } from '../../common/json-payload.js';
import { checkArgs, checkMemo, checkName, checkPositiveMs } from '../../common/request-rules.js';
import type { StartWorkflowRequest } from '../../protocol/service.js';

/** Checks a start request before anything is recorded: the same rules as the HTTP API's. */
export function validateStart(req: StartWorkflowRequest): void {
  if (req.workflowType === undefined || req.workflowType === '') {
    throw new InvalidArgumentError('a workflow type is required');
  }
  if (req.workflowId === undefined || req.workflowId === '') {
    throw new InvalidArgumentError('a workflow ID is required');
  }
  checkName('the workflow type', req.workflowType);
  checkName('the workflow ID', req.workflowId);
  checkArgs('the workflow args', req.args);
  if (req.runTimeoutMs !== undefined) checkPositiveMs('the run timeout', req.runTimeoutMs);
  if (req.memo !== undefined) checkMemo('the memo', req.memo);
  if (req.signal !== undefined) checkName('the signal name', req.signal.name);
}

/** A copy of client-given args as they will be recorded (JSON), or an INVALID_ARGUMENT saying why not. */
export function jsonArgs(args: unknown[], what: string): unknown[] {
  if (!Array.isArray(args)) throw new InvalidArgumentError(`${what} args must be an array`);
  const payload = payloadJson(args);
  if ('problem' in payload) throw new InvalidArgumentError(`${what} args ${payload.problem}`);
  return JSON.parse(payload.json) as unknown[];
}

/** A copy of a client-given memo as it will be recorded (JSON). */
export function jsonMemo(memo: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(memo)) as Record<string, unknown>;
}

/** Where the next page starts: an offset into a store's list, or a store's own cursor. */
export type PagePosition = { offset: number } | { after: string };

export function encodePageToken(position: PagePosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodePageToken(token: string): PagePosition {
  try {
    const position = JSON.parse(Buffer.from(token, 'base64url').toString()) as Partial<{
      offset: unknown;
      after: unknown;
    }>;
    if (typeof position.after === 'string') return { after: position.after };
    const { offset } = position;
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return { offset };
  } catch {
    // fall through
  }
  throw new InvalidArgumentError('nextPageToken is not one this server issued');
}
