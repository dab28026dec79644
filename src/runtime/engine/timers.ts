import type { EngineKernel } from './kernel.js';
import type { Mailbox } from './mailbox.js';
import type { RunEntry } from './run-entry.js';

/** Durable timers and run timeouts, armed on the engine's Clock from what the history records. */
export class DurableTimers {
  constructor(
    private readonly kernel: EngineKernel,
    private readonly mailbox: Mailbox,
  ) {}

  /** Fires TimerFired for `seq` at `fireAt`; a timer armed already is left as it is. */
  arm(entry: RunEntry, seq: number, fireAt: number): void {
    if (this.kernel.stopped || entry.timers.has(seq)) return;
    const handle = this.kernel.clock.setTimer(fireAt, () => {
      entry.timers.delete(seq);
      this.mailbox.enqueue(entry, { input: { type: 'TimerFired', seq } });
    });
    entry.timers.set(seq, handle);
  }

  cancel(entry: RunEntry, seq: number): void {
    entry.timers.get(seq)?.cancel();
    entry.timers.delete(seq);
  }

  /** Closes the run as timed out once its run timeout has passed since it started. */
  armRunTimeout(entry: RunEntry): void {
    const timeout = entry.started.runTimeoutMs;
    if (timeout === undefined || this.kernel.stopped) return;
    const at = Date.parse(entry.started.eventTime) + timeout;
    entry.runTimeout?.cancel();
    entry.runTimeout = this.kernel.clock.setTimer(at, () => {
      if (!entry.closed) this.mailbox.enqueue(entry, { close: { type: 'WorkflowExecutionTimedOut' } });
    });
  }

  stop(entry: RunEntry): void {
    for (const timer of entry.timers.values()) timer.cancel();
    entry.timers.clear();
    entry.runTimeout?.cancel();
  }

  /** Re-arms what a recovered or reloaded run waits on. */
  resume(entry: RunEntry): void {
    this.armRunTimeout(entry);
    for (const timer of entry.executor?.timers.values() ?? []) this.arm(entry, timer.seq, timer.fireAt);
  }
}
