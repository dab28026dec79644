/**
 * The codec of history format v1: one event per JSON line, validated against events.ts.
 *
 * Every line read from a file goes through here, so a malformed, truncated or hand-edited history is
 * reported with its file and line, never half-used. Lines may carry a `"crc"` field (the store writes
 * one as the last key); it is verified when present and removed from the parsed event.
 */

import { crc32 } from 'node:zlib';
import { jsonTextDepth, MAX_EVENT_DEPTH } from '../common/json-payload.js';
import { CLOSING_EVENT_TYPES, type EventType, HISTORY_FORMAT_VERSION, type HistoryEvent } from './events.js';
import { HistoryCorruptError } from './store.js';

/** Where a value came from, for error messages. `line` is 1-based. */
export interface EventLocation {
  file: string;
  line: number;
}

// ---------------------------------------------------------------------------------------------------
// Field checks

/** A problem found in one field: `missing`, or a description of what was expected. */
interface FieldProblem {
  path: string;
  problem: string;
}

type Check = ((value: unknown, path: string) => FieldProblem | undefined) & {
  /** A check of the value alone (no nested fields): checkShape builds a field's path only when it fails. */
  test?: (value: unknown) => boolean;
};

interface Field {
  check: Check;
  required: boolean;
}

type Shape = Record<string, Field>;

/** A shape's fields as a list, made once per shape (every event is checked against one). */
const fieldLists = new WeakMap<Shape, [string, Field][]>();

function fieldsOf(shape: Shape): [string, Field][] {
  let fields = fieldLists.get(shape);
  if (!fields) {
    fields = Object.entries(shape);
    fieldLists.set(shape, fields);
  }
  return fields;
}

const MAX_FAILURE_DEPTH = 64;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return value.length > 40
        ? `the string ${JSON.stringify(`${value.slice(0, 40)}...`)}`
        : JSON.stringify(value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

function expect(what: string, test: (v: unknown) => boolean): Check {
  const check: Check = (value, path) =>
    test(value) ? undefined : { path, problem: `must be ${what}, got ${describe(value)}` };
  check.test = test;
  return check;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const str = expect('a string', (v) => typeof v === 'string');
const nonNegInt = expect('an integer >= 0', (v) => Number.isSafeInteger(v) && (v as number) >= 0);
const posInt = expect('an integer >= 1', (v) => Number.isSafeInteger(v) && (v as number) >= 1);
const nonNegNumber = expect(
  'a number >= 0',
  (v) => typeof v === 'number' && Number.isFinite(v) && (v as number) >= 0,
);
const num = expect('a finite number', (v) => typeof v === 'number' && Number.isFinite(v));
const bool = expect('true or false', (v) => typeof v === 'boolean');
const onlyTrue = expect('true (or left out)', (v) => v === true);
const array = expect('an array', (v) => Array.isArray(v));
const object = expect('an object', isPlainObject);
const time = expect(
  'an ISO-8601 time',
  (v) => typeof v === 'string' && v.length > 0 && !Number.isNaN(Date.parse(v)),
);
const anyValue: Check = () => undefined;
anyValue.test = () => true;

function oneOf(values: readonly string[]): Check {
  const list = values.map((v) => JSON.stringify(v)).join(', ');
  return expect(`one of ${list}`, (v) => typeof v === 'string' && values.includes(v));
}

const req = (check: Check): Field => ({ check, required: true });
const opt = (check: Check): Field => ({ check, required: false });

function checkShape(value: Record<string, unknown>, shape: Shape, prefix: string): FieldProblem | undefined {
  for (const [name, field] of fieldsOf(shape)) {
    const v = Object.hasOwn(value, name) ? value[name] : undefined;
    if (v === undefined) {
      if (field.required) return { path: prefix ? `${prefix}.${name}` : name, problem: 'missing' };
      continue;
    }
    if (field.check.test?.(v)) continue;
    const problem = field.check(v, prefix ? `${prefix}.${name}` : name);
    if (problem) return problem;
  }
  return undefined;
}

function shaped(shape: Shape): Check {
  return (value, path) => {
    if (!isPlainObject(value)) return { path, problem: `must be an object, got ${describe(value)}` };
    return checkShape(value, shape, path);
  };
}

const timeoutType = oneOf(['START_TO_CLOSE', 'SCHEDULE_TO_CLOSE', 'HEARTBEAT', 'WORKFLOW_RUN']);

/** The check of a failure at each depth of causes, made once per depth (and when first needed). */
const failureChecks: Check[] = [];

function failureCheck(depth: number): Check {
  const made = failureChecks[depth];
  if (made) return made;
  let shape: Check | undefined;
  const check: Check = (value, path) => {
    if (depth > MAX_FAILURE_DEPTH) return { path, problem: `nests causes deeper than ${MAX_FAILURE_DEPTH}` };
    shape ??= shaped({
      message: req(str),
      name: req(str),
      type: opt(str),
      nonRetryable: opt(bool),
      category: opt(oneOf(['BENIGN'])),
      details: opt(array),
      stack: opt(str),
      timeoutType: opt(timeoutType),
      activityType: opt(str),
      workflowType: opt(str),
      cause: opt((cause, causePath) => failureCheck(depth + 1)(cause, causePath)),
    });
    return shape(value, path);
  };
  failureChecks[depth] = check;
  return check;
}

const failure = failureCheck(0);

const callSite = shaped({ file: req(str), line: req(nonNegInt), column: req(nonNegInt) });

const retryPolicy = shaped({
  initialIntervalMs: req(nonNegNumber),
  backoffCoefficient: req(num),
  maximumIntervalMs: req(nonNegNumber),
  maximumAttempts: req(nonNegInt),
  nonRetryableErrorTypes: req((v, path) => {
    if (!Array.isArray(v)) return { path, problem: `must be an array of strings, got ${describe(v)}` };
    const bad = v.findIndex((x) => typeof x !== 'string');
    return bad < 0
      ? undefined
      : { path: `${path}[${bad}]`, problem: `must be a string, got ${describe(v[bad])}` };
  }),
});

const activityOptions = shaped({
  startToCloseTimeoutMs: opt(nonNegNumber),
  scheduleToCloseTimeoutMs: opt(nonNegNumber),
  heartbeatTimeoutMs: opt(nonNegNumber),
  retry: req(retryPolicy),
  cancellationType: opt(oneOf(['TRY_CANCEL', 'WAIT_CANCELLATION_COMPLETED', 'ABANDON'])),
});

const seq = req(nonNegInt);
const attempt = req(posInt);

/** The fields of each event type beyond eventId, eventTime and type. Keep in step with events.ts. */
const EVENT_SHAPES: Record<EventType, Shape> = {
  WorkflowExecutionStarted: {
    formatVersion: req(posInt),
    workflowType: req(str),
    workflowId: req(str),
    runId: req(str),
    args: req(array),
    randomnessSeed: req(str),
    attempt,
    runTimeoutMs: opt(nonNegNumber),
    continuedFromRunId: opt(str),
    parent: opt(shaped({ workflowId: req(str), runId: req(str), seq: req(nonNegInt) })),
    firstRunId: req(str),
    memo: opt(object),
    searchAttributes: opt(object),
  },
  ActivityTaskScheduled: {
    seq,
    activityId: req(str),
    activityType: req(str),
    args: req(array),
    options: req(activityOptions),
    callSite: opt(callSite),
  },
  ActivityTaskStarted: { seq, attempt, asyncCompletion: opt(onlyTrue) },
  // `result` may be absent: an activity that returns undefined has no result in JSON.
  ActivityTaskCompleted: { seq, attempt, result: opt(anyValue) },
  ActivityTaskFailed: { seq, attempt, failure: req(failure), nextRetryDelayMs: opt(nonNegNumber) },
  ActivityTaskTimedOut: {
    seq,
    attempt,
    timeoutType: req(timeoutType),
    nextRetryDelayMs: opt(nonNegNumber),
    lastFailure: opt(failure),
  },
  ActivityTaskCancelRequested: { seq },
  ActivityTaskCanceled: { seq },
  TimerStarted: {
    seq,
    durationMs: req(nonNegNumber),
    fireAt: req(time),
    summary: opt(str),
    callSite: opt(callSite),
  },
  TimerFired: { seq },
  TimerCanceled: { seq },
  WorkflowSignaled: { signalName: req(str), args: req(array), withStart: opt(bool), requestId: opt(str) },
  WorkflowUpdateAccepted: { updateId: req(str), updateName: req(str), args: req(array) },
  WorkflowUpdateCompleted: { updateId: req(str), result: opt(anyValue), failure: opt(failure) },
  WorkflowUpdateRejected: { updateId: req(str), updateName: req(str), failure: req(failure) },
  UpsertWorkflowSearchAttributes: { searchAttributes: req(object), callSite: opt(callSite) },
  MarkerRecorded: {
    markerName: req(oneOf(['patch'])),
    patchId: req(str),
    deprecated: req(bool),
    callSite: opt(callSite),
  },
  ChildWorkflowExecutionStarted: {
    seq,
    workflowType: req(str),
    workflowId: req(str),
    runId: opt(str),
    args: req(array),
    parentClosePolicy: req(oneOf(['TERMINATE', 'ABANDON', 'REQUEST_CANCEL'])),
    callSite: opt(callSite),
  },
  ChildWorkflowExecutionCancelRequested: { seq },
  ChildWorkflowExecutionCompleted: { seq, result: opt(anyValue) },
  ChildWorkflowExecutionFailed: { seq, failure: req(failure) },
  SignalExternalWorkflowExecutionInitiated: {
    seq,
    workflowId: req(str),
    runId: opt(str),
    signalName: req(str),
    args: req(array),
    callSite: opt(callSite),
  },
  ExternalWorkflowExecutionSignaled: { seq },
  SignalExternalWorkflowExecutionFailed: { seq, failure: req(failure) },
  RequestCancelExternalWorkflowExecutionInitiated: {
    seq,
    workflowId: req(str),
    runId: opt(str),
    callSite: opt(callSite),
  },
  ExternalWorkflowExecutionCancelRequested: { seq },
  RequestCancelExternalWorkflowExecutionFailed: { seq, failure: req(failure) },
  WorkflowExecutionCancelRequested: { reason: opt(str) },
  WorkflowExecutionCompleted: { result: opt(anyValue) },
  WorkflowExecutionFailed: { failure: req(failure) },
  WorkflowExecutionCanceled: {},
  WorkflowExecutionTerminated: { reason: opt(str) },
  WorkflowExecutionTimedOut: {},
  WorkflowExecutionContinuedAsNew: { newRunId: req(str), workflowType: req(str), args: req(array) },
};

/** The fields every event has. */
const EVENT_HEADER: Shape = { eventId: req(posInt), eventTime: req(time), commandCount: opt(nonNegInt) };

/** Every event type format v1 knows. */
export const EVENT_TYPES: readonly EventType[] = Object.keys(EVENT_SHAPES) as EventType[];

// ---------------------------------------------------------------------------------------------------
// Events

/**
 * Checks that an already-parsed value is a valid v1 event and returns it (without a `crc` field).
 * Returns a message for a person on failure; `validateEvent` and `parseEvent` wrap it.
 */
export function checkEvent(value: unknown): { event: HistoryEvent } | { message: string } {
  if (!isPlainObject(value)) return { message: `an event must be a JSON object, got ${describe(value)}` };
  const eventId = value.eventId;
  const type = value.type;
  const idText = Number.isSafeInteger(eventId) ? `event ${eventId}` : 'event';
  if (type === undefined) return { message: `${idText} is missing "type"` };
  if (typeof type !== 'string' || !Object.hasOwn(EVENT_SHAPES, type)) {
    return {
      message: `${idText} has unknown type ${describe(type)}: this wf reads history format ${HISTORY_FORMAT_VERSION}, whose event types are ${EVENT_TYPES.join(', ')}`,
    };
  }
  const problem =
    checkShape(value, EVENT_HEADER, '') ?? checkShape(value, EVENT_SHAPES[type as EventType], '');
  if (problem) {
    const name = `${idText} (${type})`;
    return {
      message:
        problem.problem === 'missing'
          ? `${name} is missing "${problem.path}"`
          : `${name}: "${problem.path}" ${problem.problem}`,
    };
  }
  if (Object.hasOwn(value, 'crc')) {
    const { crc: _crc, ...rest } = value;
    return { event: rest as unknown as HistoryEvent };
  }
  return { event: value as unknown as HistoryEvent };
}

function corrupt(where: EventLocation, message: string): HistoryCorruptError {
  return new HistoryCorruptError({ file: where.file, line: where.line, message });
}

/**
 * Validates a parsed value as a history event. Throws `HistoryCorruptError` naming the file and line
 * when a field is missing or has the wrong type, or the type is unknown.
 */
export function parseEvent(value: unknown, where: EventLocation): HistoryEvent {
  const result = checkEvent(value);
  if ('message' in result) throw corrupt(where, result.message);
  return result.event;
}

// ---------------------------------------------------------------------------------------------------
// Lines and checksums

const CRC_PREFIX = ',"crc":"';
const CRC_SUFFIX_LENGTH = ',"crc":"00000000"}'.length;
const CRC_HEX = /^[0-9a-f]{8}$/;

/** CRC-32 of a string's UTF-8 bytes, as 8 lowercase hex digits. */
export function crc32Hex(text: string): string {
  return crc32(text).toString(16).padStart(8, '0');
}

/** The checksum a line ends with (`,"crc":"xxxxxxxx"}`), or undefined. */
function crcSuffixOf(line: string): string | undefined {
  const start = line.length - CRC_SUFFIX_LENGTH;
  if (start < 0 || !line.startsWith(CRC_PREFIX, start) || !line.endsWith('"}')) return undefined;
  const crc = line.slice(start + CRC_PREFIX.length, start + CRC_PREFIX.length + 8);
  return CRC_HEX.test(crc) ? crc : undefined;
}

/** One event as one JSON line (no newline, no crc). */
export function serializeEvent(event: HistoryEvent): string {
  return JSON.stringify(event);
}

/** One event as the store writes it: the JSON with `"crc"` added as the last key (no newline). */
export function serializeEventWithCrc(event: HistoryEvent): string {
  const json = JSON.stringify(event);
  return `${json.slice(0, -1)},"crc":"${crc32Hex(json)}"}`;
}

/** Why a line could not be decoded. `json` and `crc` problems are what a torn write leaves behind. */
export type LineProblemKind = 'json' | 'crc' | 'schema';

export type DecodedLine =
  | { ok: true; event: HistoryEvent }
  | { ok: false; kind: LineProblemKind; message: string };

/** Decodes one line (without its newline): checksum, JSON (prototype-safe) and schema. Never throws. */
export function decodeEventLine(line: string, options: { crcJustComputed?: boolean } = {}): DecodedLine {
  if (line.endsWith('\r')) line = line.slice(0, -1);
  const suffix = crcSuffixOf(line);
  // The line without its checksum: what the checksum covers, and what is parsed (no crc to remove).
  const body = suffix === undefined ? line : `${line.slice(0, -CRC_SUFFIX_LENGTH)}}`;
  // A line serializeEventWithCrc() has just made carries the right checksum: no need to recompute it.
  if (suffix !== undefined && !options.crcJustComputed) {
    const actual = crc32Hex(body);
    if (actual !== suffix) {
      return {
        ok: false,
        kind: 'crc',
        message: `checksum mismatch: the line's "crc" is ${suffix} but its content gives ${actual}, so it was damaged or edited after it was written (if you edited it by hand, delete its "crc" field)`,
      };
    }
  }
  // JSON.parse defines every key, "__proto__" included, as an own data property: it never sets a
  // prototype, so payloads read back exactly as they were written (see docs/history-format.md).
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      kind: 'json',
      message: line.trim() === '' ? 'empty line' : `not valid JSON (${reason})`,
    };
  }
  // Each level takes two characters at least: a shorter line cannot nest too deeply.
  const depth = line.length <= 2 * MAX_EVENT_DEPTH ? 0 : jsonTextDepth(line);
  if (depth > MAX_EVENT_DEPTH) {
    return {
      ok: false,
      kind: 'schema',
      message: `the line nests ${depth} levels of arrays and objects deep: the most is ${MAX_EVENT_DEPTH}`,
    };
  }
  if (!suffix && isPlainObject(value) && Object.hasOwn(value, 'crc')) {
    return {
      ok: false,
      kind: 'schema',
      message:
        'the "crc" field must be the last field, written as ,"crc":"xxxxxxxx"} with no spaces; delete it to skip the check',
    };
  }
  const checked = checkEvent(value);
  if ('message' in checked) return { ok: false, kind: 'schema', message: checked.message };
  return { ok: true, event: checked.event };
}

/** Decodes one line, throwing `HistoryCorruptError` with the file and line on any problem. */
export function parseEventLine(line: string, where: EventLocation): HistoryEvent {
  const decoded = decodeEventLine(line);
  if (!decoded.ok) throw corrupt(where, decoded.message);
  return decoded.event;
}

// ---------------------------------------------------------------------------------------------------
// Whole histories

/**
 * Checks that `event` may follow `previous` (undefined for the first event) in a history: ids count
 * 1, 2, 3..., the first event starts the workflow with a format this wf reads, and nothing follows a
 * closing event. Returns a message for a person, or undefined.
 */
export function checkSequence(previous: HistoryEvent | undefined, event: HistoryEvent): string | undefined {
  const expectedId = previous ? previous.eventId + 1 : 1;
  if (event.eventId !== expectedId) {
    return previous
      ? `event ids must count up by one: event ${previous.eventId} is followed by event ${event.eventId} (${event.type}), expected event ${expectedId}`
      : `the first event must have eventId 1, got event ${event.eventId} (${event.type})`;
  }
  if (!previous) {
    if (event.type !== 'WorkflowExecutionStarted') {
      return `the first event must be WorkflowExecutionStarted, got ${event.type}`;
    }
    if (event.formatVersion > HISTORY_FORMAT_VERSION) {
      return `this history is in format version ${event.formatVersion}, but this wf reads format versions up to ${HISTORY_FORMAT_VERSION}: upgrade wf to read it`;
    }
    return undefined;
  }
  if (event.type === 'WorkflowExecutionStarted') {
    return `event ${event.eventId} is a second WorkflowExecutionStarted: only the first event may start the workflow`;
  }
  if (CLOSING_EVENT_TYPES.has(previous.type)) {
    return `event ${event.eventId} (${event.type}) follows the closing event ${previous.eventId} (${previous.type}): nothing may follow a closing event`;
  }
  return undefined;
}

/**
 * Parses a whole JSON Lines history (an exported file, a test fixture). Trailing blank lines are fine;
 * anything else wrong throws `HistoryCorruptError` with the file and the 1-based line.
 */
export function parseHistoryJsonl(text: string, file: string): HistoryEvent[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n');
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.trim() === '') end--;
  if (end === 0)
    throw corrupt(
      { file, line: 1 },
      'the history is empty: it needs at least a WorkflowExecutionStarted event',
    );
  const events: HistoryEvent[] = [];
  let previous: HistoryEvent | undefined;
  for (let i = 0; i < end; i++) {
    const where = { file, line: i + 1 };
    const line = lines[i]!;
    if (line.trim() === '') throw corrupt(where, 'empty line in the middle of the history');
    const event = parseEventLine(line, where);
    const problem = checkSequence(previous, event);
    if (problem) throw corrupt(where, problem);
    events.push(event);
    previous = event;
  }
  return events;
}

/** Serializes a whole history as JSON Lines (one event a line, a newline after each, no crc). */
export function serializeHistoryJsonl(events: readonly HistoryEvent[]): string {
  return events.map((e) => `${serializeEvent(e)}\n`).join('');
}
