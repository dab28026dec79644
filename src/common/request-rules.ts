/**
 * Checks of what clients send (the HTTP API, the in-process client): names and IDs, payloads,
 * durations. The HTTP server and the engine apply the same checks, so a request is refused with a
 * clear INVALID_ARGUMENT before anything is recorded, whichever way it came in.
 */

import { MAX_DURATION_MS } from './duration.js';
import { InvalidArgumentError } from './errors.js';
import { isWellFormedUnicode, payloadProblem } from './json-payload.js';

/** Longest name or ID (workflow ID, run ID, workflow type, signal/query/update name, request ID). */
export const MAX_NAME_LENGTH = 1000;

/**
 * Checks a name or an ID: a non-empty string of at most 1,000 characters, well-formed Unicode (a lone
 * surrogate has no UTF-8 spelling: the run could not be named again by any client or URL).
 */
export function checkName(what: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidArgumentError(`${what} must be a non-empty string, got ${describeValue(value)}`);
  }
  if (value.length > MAX_NAME_LENGTH) {
    throw new InvalidArgumentError(
      `${what} is ${value.length} characters long: the most is ${MAX_NAME_LENGTH}`,
    );
  }
  if (!isWellFormedUnicode(value)) {
    throw new InvalidArgumentError(
      `${what} ${JSON.stringify(value)} is not well-formed Unicode (it holds a lone surrogate, \\ud800-\\udfff without its pair): use only complete characters`,
    );
  }
  return value;
}

/** Checks an optional name or ID (absent: undefined). */
export function checkOptionalName(what: string, value: unknown): string | undefined {
  return value === undefined ? undefined : checkName(what, value);
}

/** Checks a list of arguments: an array whose JSON nests within the payload limit. */
export function checkArgs(what: string, value: unknown): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new InvalidArgumentError(
      `${what} must be a JSON array (one element per argument), got ${describeValue(value)}`,
    );
  }
  checkPayload(what, value);
  return value;
}

/** Checks a payload: JSON that nests within the payload limit. */
export function checkPayload(what: string, value: unknown): void {
  const problem = payloadProblem(value);
  if (problem) throw new InvalidArgumentError(`${what} ${problem}`);
}

/** Checks a memo: a JSON object whose JSON nests within the payload limit. */
export function checkMemo(what: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be a JSON object, got ${describeValue(value)}`);
  }
  checkPayload(what, value);
  return value as Record<string, unknown>;
}

/** Checks a duration in milliseconds given as a number: finite, > 0, at most MAX_DURATION_MS. */
export function checkPositiveMs(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) {
    throw new InvalidArgumentError(
      `${what} must be a positive, finite number of milliseconds, got ${describeValue(value)}`,
    );
  }
  if (value > MAX_DURATION_MS) {
    throw new InvalidArgumentError(
      `${what} is ${value} ms: the longest duration wf accepts is ${MAX_DURATION_MS} ms (100 years)`,
    );
  }
  return value;
}

/** A value as a person reads it in an error message (short, never the whole payload). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    case 'number':
      return Number.isFinite(value) ? String(value) : `${value} (not a finite number)`;
    case 'boolean':
      return String(value);
    case 'undefined':
      return 'nothing';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

/**
 * Temporal's `cronSchedule` start option: wf does not run cron workflows, and says so rather than
 * starting one run and ignoring the schedule.
 */
export function refuseCronSchedule(what: string, value: unknown): void {
  if (value === undefined) return;
  throw new InvalidArgumentError(
    `${what} (${JSON.stringify(value)}) is not supported by wf: cron workflows are not run. Nothing was started. ` +
      "Use a Schedule instead, as Temporal now recommends: `wf schedule create -s ID --cron '0 2 * * *' --type TYPE " +
      '-w ID` or client.schedule.create({ scheduleId, spec: { cronExpressions: [...] }, action: {...} }).',
  );
}
