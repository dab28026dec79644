import { QueryFailedError } from '../common/errors.js';
import { CLOSING_EVENT_TYPES } from '../history/events.js';
import type { RunKey } from '../history/store.js';
import type { EventNotice, WorkflowService } from '../protocol/service.js';
import { type Progress, toProgress } from './progress.js';

export interface ProgressPollerOptions {
  service: Pick<WorkflowService, 'query'>;
  /** Told each time a run's progress changes. */
  onProgress: (run: RunKey, progress: Progress) => void;
  /** Least time between two queries of one run. Default 250 ms. */
  minIntervalMs?: number;
  /** The query asked. Default `progress`. */
  queryName?: string;
  /** Runs the view shows: others are not asked. Default: every running run. */
  wanted?: (run: RunKey) => boolean;
  /** A run with no such query handler is not asked again for this long. Default 5 s. */
  noHandlerBackoffMs?: number;
}

interface Tracked {
  key: RunKey;
  due: boolean;
  inFlight: boolean;
  lastAsked: number;
  /** Not asked before this time (it had no handler). */
  quietUntil: number;
  timer?: NodeJS.Timeout;
  last?: string;
}

/**
 * Asks running runs for their `progress` query so the live view can draw a bar. A workflow's state
 * only changes when it handles a recorded event, so a run is asked after its events only (never on
 * a fixed beat), at most once per `minIntervalMs`, one query at a time per run, and only runs the
 * view shows; a run that answers "no such query" is left alone for `noHandlerBackoffMs` (a handler
 * may come later); closed and paused runs are not asked.
 */
export class ProgressPoller {
  private readonly runs = new Map<string, Tracked>();
  private readonly minIntervalMs: number;
  private readonly queryName: string;
  private closed = false;

  constructor(private readonly options: ProgressPollerOptions) {
    this.minIntervalMs = options.minIntervalMs ?? 250;
    this.queryName = options.queryName ?? 'progress';
  }

  /** Feeds an event of a run: the run is asked soon (or dropped, once closed). */
  event({ workflowId, runId, event }: EventNotice): void {
    const id = `${workflowId}\u0000${runId}`;
    if (CLOSING_EVENT_TYPES.has(event.type)) {
      this.forget(id);
      return;
    }
    let tracked = this.runs.get(id);
    if (!tracked) {
      tracked = { key: { workflowId, runId }, due: false, inFlight: false, lastAsked: 0, quietUntil: 0 };
      this.runs.set(id, tracked);
    }
    if (Date.now() < tracked.quietUntil) return;
    tracked.due = true;
    this.schedule(tracked);
  }

  /** A paused run is not asked until it resumes. */
  paused(run: RunKey, reason: string | undefined): void {
    const id = `${run.workflowId}\u0000${run.runId}`;
    if (reason !== undefined) this.forget(id);
  }

  close(): void {
    this.closed = true;
    for (const id of [...this.runs.keys()]) this.forget(id);
  }

  private forget(id: string): void {
    const tracked = this.runs.get(id);
    if (tracked?.timer) clearTimeout(tracked.timer);
    this.runs.delete(id);
  }

  private schedule(tracked: Tracked): void {
    if (this.closed || tracked.inFlight || tracked.timer) return;
    const wait = Math.max(0, tracked.lastAsked + this.minIntervalMs - Date.now());
    tracked.timer = setTimeout(() => {
      tracked.timer = undefined;
      void this.ask(tracked);
    }, wait);
    tracked.timer.unref?.();
  }

  private async ask(tracked: Tracked): Promise<void> {
    const id = `${tracked.key.workflowId}\u0000${tracked.key.runId}`;
    if (this.closed || this.runs.get(id) !== tracked || !tracked.due) return;
    tracked.due = false;
    if (this.options.wanted && !this.options.wanted(tracked.key)) return;
    tracked.inFlight = true;
    tracked.lastAsked = Date.now();
    try {
      const answer = await this.options.service.query(tracked.key, this.queryName, []);
      const progress = toProgress(answer);
      const text = JSON.stringify(progress);
      if (progress && text !== tracked.last && this.runs.get(id) === tracked) {
        tracked.last = text;
        this.options.onProgress(tracked.key, progress);
      }
    } catch (error) {
      // No handler (yet), a handler that threw, a run that closed meanwhile: nothing to draw.
      if (error instanceof QueryFailedError && error.notRegistered) {
        tracked.quietUntil = Date.now() + (this.options.noHandlerBackoffMs ?? 5000);
        tracked.due = false;
      }
    } finally {
      tracked.inFlight = false;
    }
    if (tracked.due) this.schedule(tracked);
  }
}
