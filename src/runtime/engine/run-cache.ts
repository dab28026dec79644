import type { RunKey } from '../../history/store.js';
import { type RunEntry, runKeyString } from './run-entry.js';

/**
 * The runs this process holds, and which of them keep their executor in memory. Executors are kept
 * in least-recently-used order; past `maxLoaded`, idle ones are dropped (and rebuilt by replay when
 * their run wakes). Eviction walks from the oldest and stops as soon as the cache fits, so a slot
 * release costs O(evicted), not O(runs).
 */
export class RunCache {
  private readonly entries = new Map<string, RunEntry>();
  /** Entries with an executor, oldest use first (a Map keeps insertion order). */
  private readonly loaded = new Map<RunEntry, true>();

  constructor(
    private readonly maxLoaded: number,
    private readonly onEvict?: (entry: RunEntry) => void,
  ) {}

  get(key: RunKey): RunEntry | undefined {
    return this.entries.get(runKeyString(key));
  }

  /** Set while open runs are being recovered: brings one of them in now, ahead of its turn. */
  recoverNow: ((key: RunKey) => Promise<void>) | undefined;

  /** The run's entry, recovering it first if it is an open run that recovery has not reached yet. */
  async getRecovered(key: RunKey): Promise<RunEntry | undefined> {
    const entry = this.get(key);
    if (entry || !this.recoverNow) return entry;
    await this.recoverNow(key);
    return this.get(key);
  }

  add(entry: RunEntry): void {
    this.entries.set(runKeyString(entry.key), entry);
    if (entry.executor) this.touch(entry);
  }

  remove(entry: RunEntry): void {
    if (this.entries.get(runKeyString(entry.key)) === entry) this.entries.delete(runKeyString(entry.key));
    this.loaded.delete(entry);
  }

  values(): IterableIterator<RunEntry> {
    return this.entries.values();
  }

  get size(): number {
    return this.entries.size;
  }

  /** How many runs keep their executor in memory. */
  get loadedCount(): number {
    return this.loaded.size;
  }

  /** Marks the run as just used (call whenever its executor is used or set). */
  touch(entry: RunEntry): void {
    this.loaded.delete(entry);
    if (entry.executor) this.loaded.set(entry, true);
  }

  /** Drops the executors of the least recently used idle runs until the cache fits. */
  evictIfNeeded(): void {
    if (this.loaded.size <= this.maxLoaded) return;
    let excess = this.loaded.size - this.maxLoaded;
    for (const entry of this.loaded.keys()) {
      if (excess <= 0) break;
      if (!entry.executor) {
        this.loaded.delete(entry);
        excess--;
        continue;
      }
      if (entry.processing || entry.mailbox.length > 0 || entry.updateWaiters.size > 0) continue;
      entry.executor = undefined;
      entry.compact?.();
      this.loaded.delete(entry);
      excess--;
      this.onEvict?.(entry);
    }
  }
}
