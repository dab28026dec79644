import type { ActivityLogRecord } from '../../activity/log.js';
import type { HistoryEvent } from '../../history/events.js';
import type { HistoryStore } from '../../history/store.js';
import type { EventNotice } from '../../protocol/service.js';
import type { Clock } from '../clock.js';
import { Metering } from './metering.js';
import { LocalOwnership, type Ownership } from './ownership.js';
import type { RunEntry } from './run-entry.js';
import { Tracing } from './tracing.js';
import type { ActivityFunction, EngineLogger, EngineMetrics, EngineTracing, WorkflowCode } from './types.js';

/**
 * What every room of the engine shares: the store, the clock, the current code, the logger, the
 * event feed and the engine's busy count (time skipping waits for it). Rooms get this and the
 * rooms they talk to, never the engine itself.
 */
export class EngineKernel {
  code: WorkflowCode;
  activities: Record<string, ActivityFunction>;
  stopped = false;
  /** The build of the code this process runs (shared stores), for messages. */
  buildId: string | undefined;
  /** Counts what becomes durable, for metrics; undefined when nobody collects them. */
  readonly metering: Metering | undefined;
  /** Turns what becomes durable into spans; undefined when tracing is off. */
  readonly tracing: Tracing | undefined;
  private ownership_: Ownership;
  /** Where activity code's `log` lines go. */
  activityLog: (record: ActivityLogRecord) => void = () => undefined;
  private busy = 0;
  /** Attempts doing real work (not sleeping in `Context.sleep`), plus attempts waiting for a slot. */
  activeAttempts: () => number = () => 0;
  private idleWaiters: (() => void)[] = [];
  private readonly listeners = new Set<(notice: EventNotice) => void>();

  constructor(
    readonly store: HistoryStore,
    readonly clock: Clock,
    readonly logger: EngineLogger,
    code: WorkflowCode,
    activities: Record<string, ActivityFunction>,
    metrics?: EngineMetrics,
    tracing?: EngineTracing,
  ) {
    this.code = code;
    this.activities = activities;
    this.metering = metrics ? new Metering(metrics, store) : undefined;
    this.tracing = tracing ? new Tracing(tracing) : undefined;
    this.ownership_ = this.metered(new LocalOwnership(store));
  }

  /** How histories are written: plainly, or under leases when the store is shared. */
  get ownership(): Ownership {
    return this.ownership_;
  }

  set ownership(ownership: Ownership) {
    this.ownership_ = this.metered(ownership);
  }

  private metered(ownership: Ownership): Ownership {
    const traced = this.tracing ? this.tracing.trace(ownership) : ownership;
    return this.metering ? this.metering.meter(traced) : traced;
  }

  executorOptions() {
    const { sandbox, resolveCallSite } = this.code;
    return resolveCallSite ? { sandbox, resolveCallSite } : { sandbox };
  }

  /** Counts `fn` as in flight until it settles. */
  async track<T>(fn: () => Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await fn();
    } finally {
      this.busy--;
      this.notifyIdle();
    }
  }

  /** True when nothing is in flight: no appends, no activations, no activity doing real work. */
  isIdle(): boolean {
    return this.busy === 0 && this.activeAttempts() === 0;
  }

  /** True when no append or activation is in flight; activities may still be running. */
  isSettled(): boolean {
    return this.busy === 0;
  }

  notifyIdle(): void {
    if (!this.isSettled()) return; // waiters re-check what they wait for
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Resolves once idle, or after `timeoutMs` of real time. */
  waitForIdle(timeoutMs: number): Promise<void> {
    return this.waitUntil(() => this.isIdle(), timeoutMs);
  }

  /** Resolves once settled (activities may run on), or after `timeoutMs` of real time. */
  waitForSettled(timeoutMs: number): Promise<void> {
    return this.waitUntil(() => this.isSettled(), timeoutMs);
  }

  private async waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!done() && Date.now() < end) {
      await new Promise<void>((resolve) => {
        this.idleWaiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }

  subscribe(listener: (notice: EventNotice) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(entry: RunEntry, event: HistoryEvent): void {
    if (this.listeners.size === 0) return;
    const notice: EventNotice = { workflowId: entry.key.workflowId, runId: entry.key.runId, event };
    for (const listener of this.listeners) {
      try {
        listener(notice);
      } catch (error) {
        this.logger.warn(`event listener failed: ${(error as Error).message}`);
      }
    }
  }

  /** An ISO timestamp of the engine's clock. */
  nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }
}
