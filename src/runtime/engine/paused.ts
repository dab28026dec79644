import type { HistoryEvent, NewEvent } from '../../history/events.js';
import type { Children } from './children.js';
import type { Effects } from './effects.js';
import type { EngineKernel } from './kernel.js';
import type { Mailbox } from './mailbox.js';
import type { RunEntry } from './run-entry.js';

/**
 * Paused runs (their code does not replay their history) have no executor to number events with:
 * what they must still take (signals, cancel requests, terminate) is appended to the stored history
 * directly, and the run sees it when it is rebuilt.
 */
export class PausedRuns {
  constructor(
    private readonly kernel: EngineKernel,
    private readonly mailbox: Mailbox,
    private readonly effects: Effects,
    private readonly children: Children,
  ) {}

  /** Records an input for a paused run straight into its history; the usual path if it resumed meanwhile. */
  async append(entry: RunEntry, input: NewEvent): Promise<void> {
    const recorded = await this.mailbox.withRun(entry, async () => {
      if (!entry.paused) return false;
      const history = await this.kernel.store.readHistory(entry.key);
      const requestId = input.type === 'WorkflowSignaled' ? input.requestId : undefined;
      if (
        requestId !== undefined &&
        history.some((e) => e.type === 'WorkflowSignaled' && e.requestId === requestId)
      ) {
        return true; // The same signal request again (a retry): recorded once, as for a running run.
      }
      const event = {
        ...input,
        eventId: history.length + 1,
        eventTime: this.kernel.nowIso(),
      } as HistoryEvent;
      await this.kernel.ownership.append(entry, [event]);
      this.kernel.publish(entry, event);
      return true;
    });
    if (!recorded) await this.mailbox.submit(entry, { input });
  }

  async terminate(entry: RunEntry, reason: string | undefined): Promise<void> {
    await this.mailbox.withRun(entry, async () => {
      const history = await this.kernel.store.readHistory(entry.key);
      const event: HistoryEvent = {
        eventId: history.length + 1,
        eventTime: this.kernel.nowIso(),
        type: 'WorkflowExecutionTerminated',
        ...(reason === undefined ? {} : { reason }),
      };
      await this.kernel.ownership.append(entry, [event]);
      entry.mailbox.length = 0;
      // No executor to ask for the open children: read them off the history.
      const open = new Map<number, { workflowId: string; parentClosePolicy: string }>();
      for (const e of history) {
        if (e.type === 'ChildWorkflowExecutionStarted') open.set(e.seq, e);
        else if (e.type === 'ChildWorkflowExecutionCompleted' || e.type === 'ChildWorkflowExecutionFailed') {
          open.delete(e.seq);
        }
      }
      for (const child of open.values()) this.children.applyParentClosePolicy(entry, child);
      await this.effects.afterAppend(entry, [event]);
    });
  }
}
