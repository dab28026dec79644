/**
 * The checks an append must pass before the PostgreSQL store writes it: the append rules every
 * store shares (position, schema of each event, first event, nothing after a closing event, lines
 * that read back).
 */

import { prepareAppend } from '../append-rules.js';
import type { HistoryEvent } from '../events.js';
import type { RunKey } from '../store.js';

/** Where a run's history stands: the next eventId and whether a closing event was written. */
export interface HistoryPosition {
  nextEventId: number;
  closed: boolean;
}

/**
 * Checks an append at `position` with the append rules every store shares (append-rules.ts): throws
 * `HistoryConflictError` when the ids do not follow on, and `InvalidArgumentError` when an event is
 * malformed, the run is closed, a new run does not start with its own WorkflowExecutionStarted, or
 * an event would not read back. Returns whether the run is closed after the append.
 */
export function checkAppend(
  key: RunKey,
  position: HistoryPosition,
  events: readonly HistoryEvent[],
): boolean {
  return prepareAppend(key, position, events).position.closed;
}
