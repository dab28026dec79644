/**
 * The append rules every history store applies, in one place: what may be appended to a run, and
 * the exact line it is recorded as. The rule that makes a history readable forever: a line is
 * appended only if the reader (`decodeEventLine`) accepts it, so what a store acknowledges always
 * reads back, and reads back equal (the event as `JSON.parse(JSON.stringify(event))`).
 */

import { InvalidArgumentError } from '../common/errors.js';
import { isWellFormedUnicode } from '../common/json-payload.js';
import { checkEvent, checkSequence, decodeEventLine, serializeEventWithCrc } from './codec.js';
import { CLOSING_EVENT_TYPES, type HistoryEvent } from './events.js';
import { HistoryConflictError, type RunKey } from './store.js';

/** Longest workflow ID or run ID the stores accept. */
export const MAX_ID_LENGTH = 1000;

/**
 * Checks a workflow ID or run ID: a non-empty string of at most 1,000 characters, well-formed
 * Unicode (no lone surrogates: such an ID has no UTF-8 spelling, so no client could name it again).
 */
export function validateId(what: 'workflowId' | 'runId', id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new InvalidArgumentError(
      `${what} must be a non-empty string, got ${JSON.stringify(id) ?? String(id)}`,
    );
  }
  if (id.length > MAX_ID_LENGTH) {
    throw new InvalidArgumentError(`${what} is ${id.length} characters long: the most is ${MAX_ID_LENGTH}`);
  }
  if (!isWellFormedUnicode(id)) {
    throw new InvalidArgumentError(
      `${what} ${JSON.stringify(id)} is not well-formed Unicode (it holds a lone surrogate): use only complete characters`,
    );
  }
  return id;
}

/** Where a run stands, as far as appending is concerned. `undefined` for a run not yet created. */
export interface AppendPosition {
  /** The eventId the next appended event must have. */
  nextEventId: number;
  /** A closing event has been accepted. */
  closed: boolean;
}

/** An append that passed the rules: the lines to write (no newline) and where the run then stands. */
export interface PreparedAppend {
  lines: string[];
  position: AppendPosition;
}

/** UTF-8 bytes of prepared lines, plus `separator` bytes after each (a newline where one is kept). */
export function lineBytes(lines: readonly string[], separator = 0): number {
  let bytes = 0;
  for (const line of lines) bytes += Buffer.byteLength(line) + separator;
  return bytes;
}

/**
 * Checks an append of `events` to the run `key` at `position` and returns the lines to record.
 * Throws `HistoryConflictError` when the eventIds do not continue the run, and `InvalidArgumentError`
 * when an event breaks the schema or the sequence, or would not read back (a payload nested too
 * deeply, a value that is not JSON). Checks everything before returning: an append is all or nothing.
 */
export function prepareAppend(
  key: RunKey,
  position: AppendPosition | undefined,
  events: readonly HistoryEvent[],
): PreparedAppend {
  validateId('workflowId', key.workflowId);
  validateId('runId', key.runId);
  const next = position?.nextEventId ?? 1;
  events.forEach((event, i) => {
    if (event?.eventId !== next + i) throw new HistoryConflictError(key, event?.eventId, next + i);
  });
  let closed = position?.closed ?? false;
  const lines: string[] = [];
  for (const [i, event] of events.entries()) {
    // The line is made and read back first: an event whose line reads back passed the schema there
    // (checking the event itself too would check it twice). Only a line that fails is explained.
    const line = readableLine(event);
    if (line === undefined) {
      const checked = checkEvent(event);
      if ('message' in checked) {
        throw new InvalidArgumentError(`cannot append to run ${key.runId}: ${checked.message}`);
      }
    }
    if (closed) {
      throw new InvalidArgumentError(
        `cannot append event ${event.eventId} (${event.type}) to run ${key.runId}: the run is closed, and nothing may follow a closing event`,
      );
    }
    if (next + i === 1) {
      if (event.type !== 'WorkflowExecutionStarted') {
        throw new InvalidArgumentError(
          `a new run must start with WorkflowExecutionStarted, got ${event.type}`,
        );
      }
      if (event.workflowId !== key.workflowId || event.runId !== key.runId) {
        throw new InvalidArgumentError(
          `the WorkflowExecutionStarted event names workflow ${JSON.stringify(event.workflowId)} run ${JSON.stringify(event.runId)}, but was appended to workflow ${JSON.stringify(key.workflowId)} run ${JSON.stringify(key.runId)}`,
        );
      }
      const sequenceProblem = checkSequence(undefined, event);
      if (sequenceProblem) throw new InvalidArgumentError(sequenceProblem);
    } else if (event.type === 'WorkflowExecutionStarted') {
      throw new InvalidArgumentError(`event ${event.eventId} is a second WorkflowExecutionStarted`);
    }
    if (CLOSING_EVENT_TYPES.has(event.type)) closed = true;
    lines.push(line ?? recordLine(key, event));
  }
  return { lines, position: { nextEventId: next + events.length, closed } };
}

/** The event's line when it reads back through the reader's own decoder; undefined otherwise. */
function readableLine(event: HistoryEvent): string | undefined {
  try {
    const line = serializeEventWithCrc(event);
    return decodeEventLine(line, { crcJustComputed: true }).ok ? line : undefined;
  } catch {
    return undefined;
  }
}

/** The line an event is recorded as, checked to read back through the reader's own decoder. */
function recordLine(key: RunKey, event: HistoryEvent): string {
  let line: string;
  try {
    line = serializeEventWithCrc(event);
  } catch (error) {
    throw new InvalidArgumentError(
      `cannot append event ${event.eventId} (${event.type}) to run ${key.runId}: it cannot be written as JSON (${(error as Error).message})`,
    );
  }
  const decoded = decodeEventLine(line, { crcJustComputed: true });
  if (!decoded.ok) {
    throw new InvalidArgumentError(
      `cannot append event ${event.eventId} (${event.type}) to run ${key.runId}: it would not read back (${decoded.message})`,
    );
  }
  return line;
}
