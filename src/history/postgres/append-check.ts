/**
 * The checks an append must pass before the PostgreSQL store writes it: the same rules the file
 * store applies (position, schema of each event, first event, nothing after a closing event).
 */

import { InvalidArgumentError } from '../../common/errors.js';
import { checkEvent, checkSequence } from '../codec.js';
import { CLOSING_EVENT_TYPES, type HistoryEvent } from '../events.js';
import { HistoryConflictError, type RunKey } from '../store.js';

/** Where a run's history stands: the next eventId and whether a closing event was written. */
export interface HistoryPosition {
  nextEventId: number;
  closed: boolean;
}

/** The eventId that does not follow on, if any: the append lost a race (or is out of step). */
function positionMismatch(position: HistoryPosition, events: readonly HistoryEvent[]): number | undefined {
  for (const [i, event] of events.entries()) {
    if (event?.eventId !== position.nextEventId + i) return event?.eventId ?? Number.NaN;
  }
  return undefined;
}

/**
 * Checks an append at `position`. Throws `HistoryConflictError` when the ids do not follow on, and
 * `InvalidArgumentError` when an event is malformed, the run is closed, or a new run does not start
 * with its own WorkflowExecutionStarted. Returns whether the run is closed after the append.
 */
export function checkAppend(
  key: RunKey,
  position: HistoryPosition,
  events: readonly HistoryEvent[],
): boolean {
  const bad = positionMismatch(position, events);
  if (bad !== undefined) {
    const i = events.findIndex((e, j) => e?.eventId !== position.nextEventId + j);
    throw new HistoryConflictError(key, bad, position.nextEventId + i);
  }
  let closed = position.closed;
  for (const event of events) {
    const checked = checkEvent(event);
    if ('message' in checked) {
      throw new InvalidArgumentError(`cannot append to run ${key.runId}: ${checked.message}`);
    }
    if (closed) {
      throw new InvalidArgumentError(
        `cannot append event ${event.eventId} (${event.type}) to run ${key.runId}: the run is closed, and nothing may follow a closing event`,
      );
    }
    if (event.eventId === 1) {
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
      const problem = checkSequence(undefined, event);
      if (problem) throw new InvalidArgumentError(problem);
    } else if (event.type === 'WorkflowExecutionStarted') {
      throw new InvalidArgumentError(`event ${event.eventId} is a second WorkflowExecutionStarted`);
    }
    if (CLOSING_EVENT_TYPES.has(event.type)) closed = true;
  }
  return closed;
}
