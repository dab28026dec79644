import type { HistoryEvent } from '../../history/events.js';
import type { RunLease } from '../../history/shared-store.js';
import type { RunKey } from '../../history/store.js';
import type { Effects } from './effects.js';
import type { EngineKernel } from './kernel.js';
import type { Mailbox } from './mailbox.js';
import type { RunCache } from './run-cache.js';
import { newRunEntry, type RunEntry, runKeyString } from './run-entry.js';
import type { Starts } from './start.js';

/** How many runs recovery reads and rebuilds at once (their reads overlap the others' replays). */
const RECOVERY_CONCURRENCY = 32;

/** The open runs found at start-up, and when the last of them has been brought back. */
export interface RecoveryProgress {
  open: number;
  done: Promise<{ resumed: number; paused: number }>;
}

/** Bringing open runs back after a restart: rebuilt by replay, their effects re-armed. */
export class Recovery {
  /** Why each run the store lists as open could not be loaded, by run key. */
  private readonly unloadable = new Map<string, string>();
  /** Open runs not yet brought back by a recovery in the background, by run key. */
  private readonly waiting = new Map<string, RunKey>();
  /** Runs being brought back now, by run key (one open per run, however many ask). */
  private readonly opening = new Map<string, Promise<RunEntry | undefined>>();
  private readonly counts = { resumed: 0, paused: 0 };

  constructor(
    private readonly kernel: EngineKernel,
    private readonly cache: RunCache,
    private readonly mailbox: Mailbox,
    private readonly effects: Effects,
    private readonly starts: Starts,
  ) {}

  async recover(): Promise<{ resumed: number; paused: number }> {
    return (await this.start()).done;
  }

  /**
   * Lists the open runs and brings them back in the background, a few at a time: the engine serves
   * requests meanwhile, and a request for a run not yet back brings that run back first.
   */
  async start(): Promise<RecoveryProgress> {
    await this.finishContinuedChains();
    const open = await this.kernel.store.listRuns({ status: 'RUNNING' });
    for (const summary of open) this.waiting.set(runKeyString(summary), summary);
    this.cache.recoverNow = (key) => this.openWaiting(key).then(() => undefined);
    const worker = async () => {
      // Keys opened meanwhile on request have left `waiting`: the iterator skips them.
      for (const key of this.waiting.values()) {
        if (this.kernel.stopped) return;
        await this.openWaiting(key);
      }
    };
    const done = Promise.all(Array.from({ length: RECOVERY_CONCURRENCY }, worker))
      .then(() => Promise.all(this.opening.values()))
      .then(() => {
        this.cache.recoverNow = undefined;
        return { ...this.counts };
      });
    return { open: open.length, done };
  }

  /** Brings back an open run that recovery has not reached yet (at once, or with whoever is at it). */
  private openWaiting(key: RunKey): Promise<RunEntry | undefined> {
    const id = runKeyString(key);
    const summary = this.waiting.get(id);
    if (!summary) return this.opening.get(id) ?? Promise.resolve(undefined);
    this.waiting.delete(id);
    const opened = this.open(summary).then(
      (entry) => {
        this.opening.delete(id);
        if (entry?.paused) this.counts.paused++;
        else if (entry) this.counts.resumed++;
        return entry;
      },
      (error: unknown) => {
        this.opening.delete(id);
        if (!this.kernel.stopped) this.kernel.logger.error(`recovering ${id}: ${(error as Error).message}`);
        return undefined;
      },
    );
    this.opening.set(id, opened);
    return opened;
  }

  /** Holds an open run here: rebuilt by replay (or paused if its code no longer replays it). */
  async open(summary: RunKey, lease?: RunLease): Promise<RunEntry | undefined> {
    const existing = this.cache.get(summary);
    if (existing && !existing.dropped) return existing;
    let history: HistoryEvent[];
    try {
      history = await this.kernel.store.readHistory(summary);
    } catch (error) {
      this.kernel.logger.error((error as Error).message);
      this.unloadable.set(runKeyString(summary), (error as Error).message);
      return undefined;
    }
    const first = history[0];
    if (first?.type !== 'WorkflowExecutionStarted') {
      this.unloadable.set(runKeyString(summary), 'its history does not begin with WorkflowExecutionStarted');
      return undefined;
    }
    this.unloadable.delete(runKeyString(summary));
    const entry = newRunEntry(first);
    if (lease) entry.lease = lease;
    this.cache.add(entry);
    try {
      await this.mailbox.withRun(entry, async () => {
        await this.mailbox.load(entry, history);
      });
    } catch (error) {
      this.mailbox.pause(entry, error as Error);
      return entry;
    }
    this.effects.resume(entry);
    return entry;
  }

  /** Why an open run of the store is not held here (its history could not be read at recovery). */
  whyNotLoaded(key: RunKey): string {
    return this.unloadable.get(runKeyString(key)) ?? 'it was not loaded at recovery';
  }

  /** A crash between closing a run as continued-as-new and starting its next run: start it now. */
  async finishContinuedChains(): Promise<void> {
    const { store } = this.kernel;
    for (const summary of await store.listRuns({ status: 'CONTINUED_AS_NEW' })) {
      const latest = await store.latestRun(summary.workflowId);
      if (latest?.runId !== summary.runId) continue;
      const history = await store.readHistory(summary);
      const first = history[0];
      const last = history[history.length - 1];
      if (first?.type !== 'WorkflowExecutionStarted' || last?.type !== 'WorkflowExecutionContinuedAsNew')
        continue;
      try {
        await this.starts.continueChain(first, last);
      } catch (error) {
        // Another process sharing the store may have started it first.
        this.kernel.logger.warn(
          `continuing workflow ${first.workflowId} as new: ${(error as Error).message}`,
        );
      }
    }
  }
}
