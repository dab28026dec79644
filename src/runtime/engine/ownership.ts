import type { HistoryEvent } from '../../history/events.js';
import type { SharedHistoryStore } from '../../history/shared-store.js';
import { HistoryConflictError, type HistoryStore } from '../../history/store.js';
import type { RunEntry } from './run-entry.js';

/** The run is no longer this process's: another process took it over (its lease expired). */
export class RunFencedError extends Error {
  override readonly name = 'RunFencedError';
  constructor(entry: RunEntry, holder: string | undefined) {
    super(
      `run ${entry.key.runId} of workflow ${JSON.stringify(entry.key.workflowId)} is now held by ${
        holder ? `process ${holder}` : 'no process'
      }; this process's lease on it was lost, so its last step was not recorded here`,
    );
  }
}

/**
 * How the engine writes a run's history: plainly in a one-process store, or under the run's lease
 * (fenced by its epoch) in a store shared by several processes.
 */
export interface Ownership {
  readonly shared: boolean;
  /** Records a new run's first events; in a shared store this also takes the run's lease. */
  create(entry: RunEntry, events: HistoryEvent[]): Promise<void>;
  /**
   * Appends events (possibly none) and consumes inbox messages. Throws `RunFencedError` when the
   * run is no longer this process's, `HistoryConflictError` when the history moved.
   */
  append(entry: RunEntry, events: HistoryEvent[], consumed?: number[]): Promise<void>;
}

export class LocalOwnership implements Ownership {
  readonly shared = false;

  constructor(private readonly store: HistoryStore) {}

  async create(entry: RunEntry, events: HistoryEvent[]): Promise<void> {
    await this.store.append(entry.key, events);
  }

  async append(entry: RunEntry, events: HistoryEvent[]): Promise<void> {
    if (events.length > 0) await this.store.append(entry.key, events);
  }
}

export class LeasedOwnership implements Ownership {
  readonly shared = true;

  constructor(
    private readonly store: SharedHistoryStore,
    readonly owner: string,
    readonly leaseMs: number,
    private readonly buildId: string | undefined,
  ) {}

  async create(entry: RunEntry, events: HistoryEvent[]): Promise<void> {
    entry.lease = await this.store.createRun(entry.key, events, {
      owner: this.owner,
      leaseMs: this.leaseMs,
      ...(this.buildId === undefined ? {} : { buildId: this.buildId }),
    });
  }

  async append(entry: RunEntry, events: HistoryEvent[], consumed: number[] = []): Promise<void> {
    if (events.length === 0 && consumed.length === 0) return;
    if (!entry.lease || entry.dropped) throw new RunFencedError(entry, undefined);
    const result = await this.store.appendAsOwner(entry.lease, events, {
      ...(consumed.length ? { consumed } : {}),
      ...(this.buildId === undefined ? {} : { buildId: this.buildId }),
    });
    if (result.ok) return;
    if (result.reason === 'fenced') throw new RunFencedError(entry, result.holder);
    throw new HistoryConflictError(entry.key, events[0]?.eventId ?? result.nextEventId, result.nextEventId);
  }
}

/** True for stores several processes can share (they implement the lease calls). */
export function isSharedStore(store: HistoryStore): store is SharedHistoryStore {
  return typeof (store as Partial<SharedHistoryStore>).appendAsOwner === 'function';
}
