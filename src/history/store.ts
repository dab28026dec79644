import { mergeSearchAttributes, type SearchAttributes } from '../common/search-attributes.js';
import type { HistoryEvent, RunStatus } from './events.js';

/** Names one run. */
export interface RunKey {
  workflowId: string;
  runId: string;
}

/** What listing shows about a run without reading its history. */
export interface RunSummary extends RunKey {
  workflowType: string;
  status: RunStatus | 'CORRUPT';
  startTime: string;
  closeTime?: string;
  historyLength: number;
  /** The build (bundle hash) of the code that last appended, where the store records it. */
  buildId?: string;
  /** The run's search attributes (given at start, then upserted); absent when it has none. */
  searchAttributes?: SearchAttributes;
  /** Present when status is CORRUPT: where and why the history could not be read. */
  corruption?: HistoryCorruption;
  /**
   * Set by the engine (never stored) when an open run is paused: its code no longer replays its
   * history, or its history could not be written (a full disk). It resumes after the cause is fixed.
   */
  paused?: { reason: string };
}

export interface HistoryCorruption {
  file: string;
  line: number;
  message: string;
}

export interface ListRunsFilter {
  status?: RunStatus | 'CORRUPT';
  workflowType?: string;
  workflowId?: string;
}

/**
 * Where histories live. The engine numbers and stamps events; the store checks their position and
 * makes them durable. An append resolves only once its events survive a crash (kill -9, power loss).
 *
 * Nothing above this interface assumes files or one process: a PostgreSQL store implements the same
 * calls, with `append` at an expected position playing the part of a fencing check.
 */
export interface HistoryStore {
  /**
   * Appends events to a run. `events[0].eventId` must be the run's current length + 1 and ids must
   * be contiguous; a new run starts with eventId 1 and a WorkflowExecutionStarted event. Throws
   * `HistoryConflictError` when the position does not match (another writer got there first).
   */
  append(key: RunKey, events: HistoryEvent[]): Promise<void>;
  /** The whole history of a run. Throws `RunNotFoundError`, or `HistoryCorruptError` with file and line. */
  readHistory(key: RunKey): Promise<HistoryEvent[]>;
  /** Runs matching the filter, newest start first. */
  listRuns(filter?: ListRunsFilter): Promise<RunSummary[]>;
  /** The most recently started run of a workflow ID, if any. */
  latestRun(workflowId: string): Promise<RunSummary | undefined>;
  /** Flushes pending writes and releases the store (and its lock, for stores that hold one). */
  close(): Promise<void>;
  /**
   * UTF-8 bytes of the event records this store has written since it was opened (each event's line,
   * with the newline where the store keeps one). It only grows; metrics read it after each append.
   */
  readonly appendedBytes: number;
}

export class RunNotFoundError extends Error {
  override readonly name = 'RunNotFoundError';
  constructor(readonly key: RunKey) {
    super(`no run ${key.runId} of workflow ${JSON.stringify(key.workflowId)} in the store`);
  }
}

export class HistoryConflictError extends Error {
  override readonly name = 'HistoryConflictError';
  constructor(
    readonly key: RunKey,
    readonly expectedEventId: number,
    readonly actualNextEventId: number,
  ) {
    super(
      `history of run ${key.runId} moved: tried to append event ${expectedEventId}, but the next event id is ${actualNextEventId}`,
    );
  }
}

export class HistoryCorruptError extends Error {
  override readonly name = 'HistoryCorruptError';
  constructor(readonly corruption: HistoryCorruption) {
    super(
      `corrupt history ${corruption.file}:${corruption.line}: ${corruption.message}. ` +
        'The run is left untouched; restore the file from a backup or export, or delete it to discard the run.',
    );
  }
}

/** Folds events' search attributes into a summary (a start's, then upserts). */
export function applySearchAttributes(summary: RunSummary, events: readonly HistoryEvent[]): void {
  for (const event of events) {
    const update =
      event.type === 'WorkflowExecutionStarted' || event.type === 'UpsertWorkflowSearchAttributes'
        ? event.searchAttributes
        : undefined;
    if (!update) continue;
    const merged = mergeSearchAttributes(summary.searchAttributes ?? {}, update);
    if (Object.keys(merged).length) summary.searchAttributes = merged;
    else delete summary.searchAttributes;
  }
}
