import { checkSearchAttributes } from '../common/search-attributes.js';
/**
 * The request bodies of the HTTP API (docs/http-api.md), checked field by field: every field's type
 * and range, payloads' nesting, names' Unicode, and unknown fields (refused, so a misspelt option
 * such as "runTimeout" is never silently ignored). Each refusal is an INVALID_ARGUMENT (400) naming
 * the field.
 */

import { parseDuration } from '../common/duration.js';
import { InvalidArgumentError } from '../common/errors.js';
import {
  checkArgs,
  checkMemo,
  checkName,
  checkOptionalName,
  checkPayload,
  checkPositiveMs,
  describeValue,
  refuseCronSchedule,
} from '../common/request-rules.js';
import { checkTraceHeader, type TraceHeader } from '../common/trace-header.js';
import {
  type FailureInfo,
  WORKFLOW_ID_CONFLICT_POLICIES,
  WORKFLOW_ID_REUSE_POLICIES,
  type WorkflowIdConflictPolicy,
  type WorkflowIdReusePolicy,
} from '../history/events.js';
import type { StartWorkflowRequest } from '../protocol/service.js';

type Body = Record<string, unknown>;

/** The body as an object with only `allowed` fields. */
function objectWith(raw: unknown, allowed: readonly string[], what = 'request body'): Body {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidArgumentError(`${what} must be a JSON object, got ${describeValue(raw)}`);
  }
  const body = raw as Body;
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw new InvalidArgumentError(
        `${what} has an unknown field ${JSON.stringify(key)}: the fields are ${allowed.map((k) => `"${k}"`).join(', ')}`,
      );
    }
  }
  return body;
}

/** An own field's value (never one inherited from a prototype). */
function field(body: Body, key: string): unknown {
  return Object.hasOwn(body, key) ? body[key] : undefined;
}

function oneOf<T extends string>(what: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new InvalidArgumentError(
      `${what} must be one of ${allowed.join(', ')}, got ${describeValue(value)}`,
    );
  }
  return value as T;
}

const START_FIELDS = [
  'workflowType',
  'workflowId',
  'args',
  'runTimeoutMs',
  'workflowIdReusePolicy',
  'workflowIdConflictPolicy',
  'memo',
  'searchAttributes',
  'signal',
  'header',
] as const;

/** `POST /workflows`. */
export function parseStartBody(raw: unknown): StartWorkflowRequest {
  if (typeof raw === 'object' && raw !== null && Object.hasOwn(raw, 'cronSchedule')) {
    refuseCronSchedule('"cronSchedule"', (raw as Body).cronSchedule);
  }
  const body = objectWith(raw, START_FIELDS);
  const workflowType = field(body, 'workflowType');
  if (workflowType === undefined || workflowType === '') {
    throw new InvalidArgumentError('"workflowType" is required: the name of an exported workflow function');
  }
  const workflowId = field(body, 'workflowId');
  if (workflowId === undefined || workflowId === '') {
    throw new InvalidArgumentError('"workflowId" is required: a non-empty string');
  }
  const req: StartWorkflowRequest = {
    workflowType: checkName('"workflowType"', workflowType),
    workflowId: checkName('"workflowId"', workflowId),
    args: checkArgs('"args"', field(body, 'args')),
  };
  const runTimeoutMs = field(body, 'runTimeoutMs');
  if (runTimeoutMs !== undefined) req.runTimeoutMs = checkPositiveMs('"runTimeoutMs"', runTimeoutMs);
  const reuse = field(body, 'workflowIdReusePolicy');
  if (reuse !== undefined) {
    req.workflowIdReusePolicy = oneOf<WorkflowIdReusePolicy>(
      '"workflowIdReusePolicy"',
      reuse,
      WORKFLOW_ID_REUSE_POLICIES,
    );
  }
  const conflict = field(body, 'workflowIdConflictPolicy');
  if (conflict !== undefined) {
    req.workflowIdConflictPolicy = oneOf<WorkflowIdConflictPolicy>(
      '"workflowIdConflictPolicy"',
      conflict,
      WORKFLOW_ID_CONFLICT_POLICIES,
    );
  }
  const memo = field(body, 'memo');
  if (memo !== undefined) req.memo = checkMemo('"memo"', memo);
  const searchAttributes = field(body, 'searchAttributes');
  if (searchAttributes !== undefined)
    req.searchAttributes = checkSearchAttributes('"searchAttributes"', searchAttributes);
  const header = checkTraceHeader(field(body, 'header'));
  if (header) req.header = header;
  const signal = field(body, 'signal');
  if (signal !== undefined) {
    const s = objectWith(
      signal,
      ['name', 'args'],
      '"signal" (signal-with-start: {"name": ..., "args": [...]})',
    );
    req.signal = {
      name: checkName('"signal.name"', field(s, 'name')),
      args: checkArgs('"signal.args"', field(s, 'args')),
    };
  }
  return req;
}

/** `POST /workflows/:id/signal/:name`. */
export function parseSignalBody(raw: unknown): { args: unknown[]; requestId?: string; header?: TraceHeader } {
  const body = objectWith(raw, ['args', 'requestId', 'header']);
  const requestId = checkOptionalName('"requestId"', field(body, 'requestId'));
  const args = checkArgs('"args"', field(body, 'args'));
  const header = checkTraceHeader(field(body, 'header'));
  return { args, ...(requestId === undefined ? {} : { requestId }), ...(header ? { header } : {}) };
}

/** `POST /workflows/:id/query/:name`. */
export function parseQueryBody(raw: unknown): { args: unknown[] } {
  const body = objectWith(raw, ['args']);
  return { args: checkArgs('"args"', field(body, 'args')) };
}

/** `POST /workflows/:id/update/:name`. */
export function parseUpdateBody(raw: unknown): { args: unknown[]; updateId?: string; header?: TraceHeader } {
  const body = objectWith(raw, ['args', 'updateId', 'header']);
  const updateId = checkOptionalName('"updateId"', field(body, 'updateId'));
  const args = checkArgs('"args"', field(body, 'args'));
  const header = checkTraceHeader(field(body, 'header'));
  return { args, ...(updateId === undefined ? {} : { updateId }), ...(header ? { header } : {}) };
}

/** Longest cancel or terminate reason. */
export const MAX_REASON_LENGTH = 10_000;

/** `POST /workflows/:id/cancel` and `.../terminate`. */
export function parseReasonBody(raw: unknown): { reason?: string } {
  const body = objectWith(raw, ['reason']);
  const reason = field(body, 'reason');
  if (reason === undefined || reason === null) return {};
  if (typeof reason !== 'string') {
    throw new InvalidArgumentError(`"reason" must be a string, got ${describeValue(reason)}`);
  }
  if (reason.length > MAX_REASON_LENGTH) {
    throw new InvalidArgumentError(
      `"reason" is ${reason.length} characters long: the most is ${MAX_REASON_LENGTH}`,
    );
  }
  return { reason };
}

/** `POST /time/skip`. */
export function parseTimeSkipBody(raw: unknown): { durationMs: number } {
  const body = objectWith(raw, ['duration']);
  const duration = field(body, 'duration');
  if (typeof duration !== 'string' && typeof duration !== 'number') {
    throw new InvalidArgumentError(
      '"duration" is required: milliseconds, or a string such as "3 days" or "90m"',
    );
  }
  return { durationMs: parseDuration(duration, '"duration"') };
}

/** `POST /workflows/:id/timers/fire`. */
export function parseFireTimerBody(raw: unknown): { seq?: number } {
  const body = objectWith(raw, ['seq']);
  const seq = field(body, 'seq');
  if (seq === undefined) return {};
  if (!(Number.isSafeInteger(seq) && (seq as number) >= 0)) {
    throw new InvalidArgumentError(
      `"seq" must be a non-negative integer: the timer's number in \`wf show\`, got ${describeValue(seq)}`,
    );
  }
  return { seq: seq as number };
}

function taskToken(body: Body): string {
  const token = field(body, 'taskToken');
  if (typeof token !== 'string' || token === '') {
    throw new InvalidArgumentError(
      '"taskToken" is required: the activity\'s task token in base64 (`activityInfo().base64TaskToken`)',
    );
  }
  return token;
}

/** `POST /activities/complete`. */
export function parseActivityCompleteBody(raw: unknown): { taskToken: string; result?: unknown } {
  const body = objectWith(raw, ['taskToken', 'result']);
  const result = field(body, 'result');
  if (result !== undefined) checkPayload('"result"', result);
  return result === undefined ? { taskToken: taskToken(body) } : { taskToken: taskToken(body), result };
}

/** `POST /activities/heartbeat`. */
export function parseActivityHeartbeatBody(raw: unknown): { taskToken: string; details?: unknown } {
  const body = objectWith(raw, ['taskToken', 'details']);
  const details = field(body, 'details');
  if (details !== undefined) checkPayload('"details"', details);
  return details === undefined ? { taskToken: taskToken(body) } : { taskToken: taskToken(body), details };
}

/** `POST /activities/fail`: the failure as `{ message, type?, nonRetryable?, details?, category? }`. */
export function parseActivityFailBody(raw: unknown): { taskToken: string; failure: FailureInfo } {
  const body = objectWith(raw, ['taskToken', 'failure']);
  const token = taskToken(body);
  const f = objectWith(
    field(body, 'failure'),
    ['message', 'name', 'type', 'nonRetryable', 'details', 'category'],
    '"failure" (the error: {"message": ..., "type": ..., "nonRetryable": ...})',
  );
  const message = field(f, 'message');
  if (typeof message !== 'string') {
    throw new InvalidArgumentError(`"failure.message" is required: a string, got ${describeValue(message)}`);
  }
  const failure: FailureInfo = { name: 'ApplicationFailure', message };
  const name = field(f, 'name');
  if (name !== undefined) failure.name = checkName('"failure.name"', name);
  const type = field(f, 'type');
  if (type !== undefined) failure.type = checkName('"failure.type"', type);
  const nonRetryable = field(f, 'nonRetryable');
  if (nonRetryable !== undefined) {
    if (typeof nonRetryable !== 'boolean') {
      throw new InvalidArgumentError(
        `"failure.nonRetryable" must be true or false, got ${describeValue(nonRetryable)}`,
      );
    }
    failure.nonRetryable = nonRetryable;
  }
  const details = field(f, 'details');
  if (details !== undefined) failure.details = checkArgs('"failure.details"', details);
  const category = field(f, 'category');
  if (category !== undefined) failure.category = oneOf('"failure.category"', category, ['BENIGN'] as const);
  return { taskToken: token, failure };
}
