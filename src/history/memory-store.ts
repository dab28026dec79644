import type { StoredSchedule } from '../common/schedules.js';
import { lineBytes, prepareAppend } from './append-rules.js';
import { parseEventLine } from './codec.js';
import type { HistoryEvent } from './events.js';
import { CLOSING_EVENT_TYPES, statusOfClosingEvent } from './events.js';
import {
  applySearchAttributes,
  type HistoryStore,
  type ListRunsFilter,
  type RunKey,
  RunNotFoundError,
  type RunSummary,
} from './store.js';

interface StoredRun {
  summary: RunSummary;
  /** The recorded lines, exactly as the file store writes them: reads decode them afresh. */
  lines: string[];
  closed: boolean;
  /** Creation order, to list runs that started at the same time newest first. */
  order: number;
}

/**
 * A store in memory: the test environment's store, and the reference for every other store. It
 * applies the same append rules as the file store and keeps the same lines, so what it reads back is
 * what a file would (`-0` as `0`, a fresh copy on every read).
 */
export class MemoryHistoryStore implements HistoryStore {
  private readonly runs = new Map<string, StoredRun>();
  private startOrder = 0;
  /**
   * The runs of each workflow ID (their map keys), so that a look-up by ID is not a scan of every run:
   * the key itself while the ID has one run (most IDs), then an array.
   */
  private readonly byWorkflowId = new Map<string, string | string[]>();
  private bytes = 0;

  /** Bytes of the lines kept, a newline counted after each as a file holds them. */
  get appendedBytes(): number {
    return this.bytes;
  }

  async append(key: RunKey, events: HistoryEvent[]): Promise<void> {
    this.appendSync(key, events);
  }

  appendSync(key: RunKey, events: HistoryEvent[]): void {
    if (events.length === 0) return;
    const id = runMapKey(key);
    let run = this.runs.get(id);
    const prepared = prepareAppend(
      key,
      run ? { nextEventId: run.lines.length + 1, closed: run.closed } : undefined,
      events,
    );
    if (!run) {
      const first = events[0] as Extract<HistoryEvent, { type: 'WorkflowExecutionStarted' }>;
      run = {
        lines: [],
        closed: false,
        order: this.startOrder++,
        summary: {
          workflowId: key.workflowId,
          runId: key.runId,
          workflowType: first.workflowType,
          status: 'RUNNING',
          startTime: first.eventTime,
          historyLength: 0,
        },
      };
      this.runs.set(id, run);
      const ofId = this.byWorkflowId.get(key.workflowId);
      if (ofId === undefined) this.byWorkflowId.set(key.workflowId, id);
      else if (typeof ofId === 'string') this.byWorkflowId.set(key.workflowId, [ofId, id]);
      else ofId.push(id);
    }
    run.lines.push(...prepared.lines);
    this.bytes += lineBytes(prepared.lines, 1);
    run.closed = prepared.position.closed;
    applySearchAttributes(run.summary, events);
    for (const event of events) {
      if (CLOSING_EVENT_TYPES.has(event.type)) {
        run.summary.status = statusOfClosingEvent(event.type) ?? run.summary.status;
        run.summary.closeTime = event.eventTime;
      }
    }
    run.summary.historyLength = run.lines.length;
  }

  async readHistory(key: RunKey): Promise<HistoryEvent[]> {
    const run = this.runs.get(runMapKey(key));
    if (!run) throw new RunNotFoundError(key);
    return run.lines.map((line, i) => parseEventLine(line, { file: `memory:${key.runId}`, line: i + 1 }));
  }

  async listRuns(filter: ListRunsFilter = {}): Promise<RunSummary[]> {
    // Newest start first, later creation first among equal starts: the order every store lists in.
    const candidates =
      filter.workflowId === undefined
        ? [...this.runs.entries()]
        : [this.byWorkflowId.get(filter.workflowId) ?? []]
            .flat()
            .map((id) => [id, this.runs.get(id)!] as const);
    return candidates
      .filter(([, r]) => matches(r.summary, filter))
      .sort(
        ([, ra], [, rb]) =>
          Date.parse(rb.summary.startTime) - Date.parse(ra.summary.startTime) || rb.order - ra.order,
      )
      .map(([, r]) => ({ ...r.summary }));
  }

  async latestRun(workflowId: string): Promise<RunSummary | undefined> {
    return (await this.listRuns({ workflowId }))[0];
  }

  private readonly schedules = new Map<string, StoredSchedule>();

  async saveSchedule(schedule: StoredSchedule): Promise<void> {
    this.schedules.set(schedule.scheduleId, structuredClone(schedule));
  }

  async deleteSchedule(scheduleId: string): Promise<boolean> {
    return this.schedules.delete(scheduleId);
  }

  async listSchedules(): Promise<StoredSchedule[]> {
    return [...this.schedules.values()].map((s) => structuredClone(s));
  }

  async close(): Promise<void> {}
}

function runMapKey(key: RunKey): string {
  return `${key.workflowId}\u0000${key.runId}`;
}

export function matches(summary: RunSummary, filter: ListRunsFilter): boolean {
  if (filter.status && summary.status !== filter.status) return false;
  if (filter.workflowType && summary.workflowType !== filter.workflowType) return false;
  if (filter.workflowId && summary.workflowId !== filter.workflowId) return false;
  return true;
}
