import type { HistoryEvent } from '../../history/events.js';
import type { RunLease } from '../../history/shared-store.js';
import type { RunKey } from '../../history/store.js';
import type { Effects } from './effects.js';
import type { EngineKernel } from './kernel.js';
import type { Mailbox } from './mailbox.js';
import type { RunCache } from './run-cache.js';
import { newRunEntry, type RunEntry, runKeyString } from './run-entry.js';
import type { Starts } from './start.js';

/** Bringing open runs back after a restart: rebuilt by replay, their effects re-armed. */
export class Recovery {
  /** Why each run the store lists as open could not be loaded, by run key. */
  private readonly unloadable = new Map<string, string>();

  constructor(
    private readonly kernel: EngineKernel,
    private readonly cache: RunCache,
    private readonly mailbox: Mailbox,
    private readonly effects: Effects,
    private readonly starts: Starts,
  ) {}

  async recover(): Promise<{ resumed: number; paused: number }> {
    let resumed = 0;
    let paused = 0;
    await this.finishContinuedChains();
    for (const summary of await this.kernel.store.listRuns({ status: 'RUNNING' })) {
      const entry = await this.open(summary);
      if (!entry) continue;
      if (entry.paused) paused++;
      else resumed++;
    }
    return { resumed, paused };
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
