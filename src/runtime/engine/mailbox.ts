import { WfError } from '../../common/errors.js';
import type { HistoryEvent } from '../../history/events.js';
import type { RunKey } from '../../history/store.js';
import { NonDeterminismError } from '../errors.js';
import { RunExecutor } from '../executor.js';
import { WorkflowDeadlockError } from '../sandbox.js';
import { WorkflowThreadStoppedError } from '../sandbox-thread.js';
import { applyWork } from './activation.js';
import type { EngineKernel } from './kernel.js';
import { RunFencedError } from './ownership.js';
import type { RunCache } from './run-cache.js';
import { liveExecutor, type RunEntry } from './run-entry.js';
import type { Work } from './types.js';

/** How long one activation may go on through a run's queued work before other runs get their turn. */
const BATCH_WINDOW_MS = 50;
/** How recently a run that stayed open must have finished an activation to count as at work. */
const AT_WORK_MS = 5;

export interface MailboxOptions {
  kernel: EngineKernel;
  cache: RunCache;
  /** Carries out what newly durable events ask for (activities, timers, children, closing...). */
  afterAppend: (entry: RunEntry, events: HistoryEvent[]) => Promise<void>;
  onPauseChange?: ((run: RunKey, reason: string | undefined) => void) | undefined;
  /** The run was taken by another process (shared stores): forget it here. */
  onFenced: (entry: RunEntry, error: RunFencedError, unrecorded: Work[]) => void;
  /** A shared store failed mid-activation: give the run up (it is rebuilt from the store by its next holder). */
  onStoreLost: (entry: RunEntry, error: Error, unsure: Work[]) => void;
}

/**
 * Each run's queue of incoming work (outcomes, signals, updates, timers) and its single slot: one
 * activation at a time per run, its events appended (durably) before anyone hears of them.
 */
export class Mailbox {
  private readonly kernel: EngineKernel;
  private readonly cache: RunCache;
  private readonly afterAppend: MailboxOptions['afterAppend'];
  private readonly onPauseChange: MailboxOptions['onPauseChange'];
  private readonly onFenced: MailboxOptions['onFenced'];
  private readonly onStoreLost: MailboxOptions['onStoreLost'];

  constructor(options: MailboxOptions) {
    this.kernel = options.kernel;
    this.cache = options.cache;
    this.afterAppend = options.afterAppend;
    this.onPauseChange = options.onPauseChange;
    this.onFenced = options.onFenced;
    this.onStoreLost = options.onStoreLost;
  }

  /** Queues work and resolves once its events are durable. */
  submit(entry: RunEntry, work: Omit<Work, 'done'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.enqueue(entry, { ...work, done: (error) => (error ? reject(error) : resolve()) });
    });
  }

  enqueue(entry: RunEntry, work: Work): void {
    if (this.kernel.stopped) {
      work.done?.(new WfError('UNAVAILABLE', 'the engine is shutting down'));
      return;
    }
    entry.mailbox.push(work);
    this.kick(entry);
  }

  /** Starts draining the run's mailbox unless it is busy, empty or paused. */
  kick(entry: RunEntry): void {
    if (entry.processing || entry.mailbox.length === 0 || entry.paused || entry.dropped) return;
    entry.processing = true;
    void this.kernel
      .track(() => this.drain(entry))
      .catch((error: unknown) => {
        this.kernel.logger.error(`run ${entry.key.workflowId}: ${(error as Error).message}`);
      });
  }

  /** Runs `fn` while holding the run's processing slot. */
  async withRun<T>(entry: RunEntry, fn: () => Promise<T>): Promise<T> {
    while (entry.processing) await new Promise<void>((resolve) => entry.slotWaiters.push(resolve));
    entry.processing = true;
    try {
      return await fn();
    } finally {
      this.releaseSlot(entry);
    }
  }

  /** Frees the run's slot: queued work goes first, then anyone waiting for the slot. */
  releaseSlot(entry: RunEntry): void {
    entry.processing = false;
    this.kick(entry);
    if (entry.processing) return;
    for (const wake of entry.slotWaiters.splice(0)) wake();
    this.cache.evictIfNeeded();
  }

  /** The run's executor, rebuilt from its history if it was evicted. Call while holding the slot. */
  async load(entry: RunEntry, known?: HistoryEvent[]): Promise<RunExecutor> {
    // Another run's deadlock stopped the workflow thread that held this run's code.
    entry.executor = liveExecutor(entry);
    if (entry.executor) {
      this.cache.touch(entry);
      return entry.executor;
    }
    // A caller that has just read the history (recovery, a claim) passes it: one read, not two.
    const history = known ?? (await this.kernel.store.readHistory(entry.key));
    const replayStarted = performance.now();
    const { executor, events } = await RunExecutor.replayAsync(history, this.kernel.executorOptions());
    entry.executor = executor;
    this.cache.touch(entry);
    const { metering } = this.kernel;
    if (metering) {
      metering.sink.workflowReplayed(entry.workflowType, (performance.now() - replayStarted) / 1000);
      metering.executorLoaded(entry);
    }
    this.kernel.tracing?.historyLoaded(history);
    if (events.length > 0) {
      await this.kernel.ownership.append(entry, events);
      await this.afterAppend(entry, events);
    }
    return executor;
  }

  /** The run's executor for a read, or undefined when it cannot be had now. */
  async tryLoad(entry: RunEntry): Promise<RunExecutor | undefined> {
    if (entry.processing) return entry.executor;
    try {
      return await this.withRun(entry, () => this.load(entry));
    } catch {
      return undefined;
    }
  }

  /** Marks the run paused: its code does not replay its history, or the store refused an append. */
  pause(entry: RunEntry, error: Error): void {
    entry.paused = error.message;
    this.kernel.metering?.paused(entry, error);
    this.onPauseChange?.(entry.key, entry.paused);
    const site = error instanceof NonDeterminismError ? error.codeSite : undefined;
    if (site) entry.pausedAt = site;
    else delete entry.pausedAt;
    this.kernel.logger.error(`workflow ${entry.key.workflowId} paused: ${error.message}`);
  }

  /** Resumes a run that was paused (the code replays it again). */
  resumed(entry: RunEntry): void {
    this.onPauseChange?.(entry.key, undefined);
  }

  private async drain(entry: RunEntry): Promise<void> {
    this.draining.add(entry);
    try {
      while (entry.mailbox.length > 0 && !entry.paused && !entry.dropped) {
        const batch = entry.mailbox.splice(0);
        if (!(await this.activate(entry, batch))) return;
      }
    } finally {
      this.draining.delete(entry);
      this.releaseSlot(entry);
    }
  }

  /** Runs working through their mailboxes now (activating, or waiting for their appends). */
  private readonly draining = new Set<RunEntry>();
  /** The last run that finished an activation and stayed open, and when (performance.now()). */
  private lastAtWork: { entry: RunEntry; at: number } | undefined;

  /**
   * Whether runs other than `caller` (the run whose activation asks, if any) are at work: one is
   * activating or waiting for its append, or one finished an activation and stayed open within the
   * last few milliseconds (runs at work take turns between their activities). Then a call into the
   * workflow thread should not block the host.
   */
  othersAtWork(caller?: RunEntry): boolean {
    if (this.draining.size > (caller && this.draining.has(caller) ? 1 : 0)) return true;
    const last = this.lastAtWork;
    return last !== undefined && last.entry !== caller && performance.now() - last.at < AT_WORK_MS;
  }

  /** One activation over a batch of work; false when it paused the run. */
  private async activate(entry: RunEntry, batch: Work[]): Promise<boolean> {
    const events: HistoryEvent[] = [];
    const after: (() => void)[] = [];
    const consumed: number[] = [];
    try {
      const executor = await this.load(entry);
      const now = this.kernel.clock.now();
      const activationStarted = performance.now();
      // A deadlock (WorkflowDeadlockError) throws out of the loop: its events are discarded below.
      const until = activationStarted + BATCH_WINDOW_MS;
      for (let i = 0; i < batch.length; i++) {
        if (i > 0 && performance.now() > until) {
          // The rest waits for the next round, so that other runs get their turn.
          entry.mailbox.unshift(...batch.splice(i));
          break;
        }
        const work = batch[i]!;
        // With other runs at work, the host serves them while the workflow thread activates this
        // one; alone, it waits for the answer (no turn of the event loop between).
        await applyWork(entry, executor, work, now, events, after, this.othersAtWork(entry));
        if (work.inboxId !== undefined) consumed.push(work.inboxId);
      }
      this.kernel.metering?.sink.workflowActivated(
        entry.workflowType,
        (performance.now() - activationStarted) / 1000,
      );
      await this.kernel.ownership.append(entry, events, consumed);
    } catch (error) {
      if (error instanceof RunFencedError) {
        this.onFenced(entry, error, [...batch, ...entry.mailbox.splice(0)]);
        return false;
      }
      if (error instanceof WorkflowThreadStoppedError) {
        // Another run's deadlock stopped the thread that held this run's code, mid-batch: nothing
        // of the batch was recorded. The run is rebuilt from its history and the batch applied again.
        entry.executor = undefined;
        entry.mailbox.unshift(...batch);
        return true;
      }
      if (
        this.kernel.ownership.shared &&
        !(error instanceof NonDeterminismError) &&
        !(error instanceof WorkflowDeadlockError)
      ) {
        // The shared store failed (a lost connection: the append may or may not have committed).
        // This process no longer knows the run's history: it gives the run up, and whoever claims
        // it next (this process included) rebuilds it from what the store holds.
        this.onStoreLost(entry, error as Error, [...batch, ...entry.mailbox.splice(0)]);
        return false;
      }
      // The code no longer replays this history, or the store refused the append: the executor's
      // state may be ahead of the store, so drop it and keep the history as it is. Outcomes from
      // the world (activity results, timers) stay queued for when the run resumes.
      entry.executor = undefined;
      entry.mailbox.unshift(...batch.filter((w) => !w.done));
      this.pause(entry, error as Error);
      for (const work of batch) work.done?.(error as Error);
      return false;
    }
    if (events.length > 0) await this.afterAppend(entry, events);
    for (const fn of after) fn();
    // Runs at work take turns between their activities: one that stays open is still at work.
    if (!entry.closed) this.lastAtWork = { entry, at: performance.now() };
    else if (this.lastAtWork?.entry === entry) this.lastAtWork = undefined;
    return true;
  }
}
