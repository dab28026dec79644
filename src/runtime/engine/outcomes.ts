import { WfError, WorkflowNotRunningError, WorkflowUpdateFailedError } from '../../common/errors.js';
import type { FailureInfo, HistoryEvent } from '../../history/events.js';
import { CLOSING_EVENT_TYPES } from '../../history/events.js';
import { HistoryCorruptError, type RunKey, type RunSummary } from '../../history/store.js';
import type { WorkflowOutcome } from '../../protocol/service.js';
import type { EngineKernel } from './kernel.js';
import type { RunCache } from './run-cache.js';
import { type RunEntry, runKeyString } from './run-entry.js';
import type { UpdateWaiter } from './types.js';

export interface ClosingHooks {
  /** Stops the run's timers and activities. */
  stopEffects(entry: RunEntry): void;
  /** Applies the parent-close policy to the run's open children. */
  closeChildren(entry: RunEntry): void;
  /** Starts the next run of a chain that continued as new. */
  continueChain(
    entry: RunEntry,
    event: Extract<HistoryEvent, { type: 'WorkflowExecutionContinuedAsNew' }>,
  ): Promise<void>;
  /** Tells the run's parent how its child ended. */
  notifyParent(entry: RunEntry, outcome: WorkflowOutcome): Promise<void>;
}

/** How runs end: closing a run, and answering everyone who waits for a run's outcome. */
export class Outcomes {
  /** Callers waiting on runs that are open in the store but not held here (paused at recovery). */
  private readonly closeWaiters = new Map<string, ((outcome: WorkflowOutcome) => void)[]>();
  private readonly waitingKeys = new Map<string, RunKey>();

  constructor(
    private readonly kernel: EngineKernel,
    private readonly cache: RunCache,
    private readonly hooks: ClosingHooks,
  ) {}

  /** Called once a closing event is durable. */
  async onClosed(entry: RunEntry, event: HistoryEvent): Promise<void> {
    entry.closed = true;
    this.hooks.stopEffects(entry);
    const outcome = outcomeOfClosing(event);
    this.cache.remove(entry);
    for (const [, waiters] of entry.updateWaiters) {
      rejectAll(waiters, new WorkflowNotRunningError(entry.key.workflowId, entry.key.runId, outcome.status));
    }
    entry.updateWaiters.clear();
    this.hooks.closeChildren(entry);
    if (event.type === 'WorkflowExecutionContinuedAsNew' && !this.kernel.stopped) {
      // The next run exists before anyone waiting on this one follows the chain to it.
      try {
        await this.hooks.continueChain(entry, event);
      } catch (error) {
        this.kernel.logger.error(
          `workflow ${entry.key.workflowId}: could not continue as new: ${(error as Error).message}`,
        );
      }
    }
    for (const waiter of entry.resultWaiters.splice(0)) waiter(outcome);
    const key = runKeyString(entry.key);
    for (const waiter of this.closeWaiters.get(key) ?? []) waiter(outcome);
    this.closeWaiters.delete(key);
    this.waitingKeys.delete(key);
    if (entry.started.parent) await this.hooks.notifyParent(entry, outcome);
  }

  /** A caller waiting on a run this process no longer holds: it now waits on the store. */
  waitElsewhere(key: RunKey, waiter: (outcome: WorkflowOutcome) => void): void {
    const id = runKeyString(key);
    this.closeWaiters.set(id, [...(this.closeWaiters.get(id) ?? []), waiter]);
    this.waitingKeys.set(id, key);
  }

  /** Another process closed a run (a store notification, or a poll): answer whoever waits on it here. */
  closedElsewhere(key: RunKey): void {
    const id = runKeyString(key);
    if (!this.closeWaiters.has(id)) return;
    void this.kernel.store
      .readHistory(key)
      .then((history) => {
        const last = history[history.length - 1];
        if (!last || !CLOSING_EVENT_TYPES.has(last.type)) return;
        const outcome = outcomeOfClosing(last);
        for (const waiter of this.closeWaiters.get(id) ?? []) waiter(outcome);
        this.closeWaiters.delete(id);
        this.waitingKeys.delete(id);
      })
      .catch(() => undefined);
  }

  /** Looks again at every run waited on here but held elsewhere (stores without notifications). */
  pollClosed(): void {
    for (const key of this.waitingKeys.values()) this.closedElsewhere(key);
  }

  /** The run's outcome, waiting for it to close (until `deadline`, epoch ms of real time, if given). */
  async outcomeOf(summary: RunSummary, deadline: number | undefined): Promise<WorkflowOutcome> {
    const entry = this.cache.get(summary);
    if (entry && !entry.closed) return waitForClose(entry, summary, deadline);
    if (summary.status === 'CORRUPT') throw corruptRunError(summary);
    const history = await this.kernel.store.readHistory(summary);
    const last = history[history.length - 1];
    if (!last || !CLOSING_EVENT_TYPES.has(last.type)) {
      // Open in the store but not held here (e.g. paused at recovery): wait for it to close.
      return new Promise<WorkflowOutcome>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const waiter = (outcome: WorkflowOutcome) => {
          if (timer) clearTimeout(timer);
          resolve(outcome);
        };
        this.waitElsewhere(summary, waiter);
        if (deadline === undefined) return;
        timer = setTimeout(
          () => {
            const id = runKeyString(summary);
            const rest = (this.closeWaiters.get(id) ?? []).filter((w) => w !== waiter);
            if (rest.length) this.closeWaiters.set(id, rest);
            else {
              this.closeWaiters.delete(id);
              this.waitingKeys.delete(id);
            }
            reject(new WfError('UNAVAILABLE', `workflow ${summary.workflowId} is still running`));
          },
          Math.max(0, deadline - Date.now()),
        );
      });
    }
    return outcomeOfClosing(last);
  }
}

function waitForClose(
  entry: RunEntry,
  summary: RunSummary,
  deadline: number | undefined,
): Promise<WorkflowOutcome> {
  return new Promise<WorkflowOutcome>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const waiter = (outcome: WorkflowOutcome) => {
      if (timer) clearTimeout(timer);
      resolve(outcome);
    };
    entry.resultWaiters.push(waiter);
    if (deadline === undefined) return;
    // A caller's wait is wall-clock time (an HTTP long-poll), not workflow time: no Clock here.
    timer = setTimeout(
      () => {
        const at = entry.resultWaiters.indexOf(waiter);
        if (at >= 0) entry.resultWaiters.splice(at, 1);
        reject(new WfError('UNAVAILABLE', `workflow ${summary.workflowId} is still running`));
      },
      Math.max(0, deadline - Date.now()),
    );
  });
}

/** The error for any request on a run whose history cannot be read: where, what, and what to do. */
export function corruptRunError(summary: RunSummary): WfError {
  const where = summary.corruption
    ? new HistoryCorruptError(summary.corruption).message
    : `the history of workflow ${JSON.stringify(summary.workflowId)} is corrupt`;
  return new WfError('CORRUPT', `workflow ${JSON.stringify(summary.workflowId)} cannot be used: ${where}`);
}

export function settleUpdate(
  waiters: UpdateWaiter[],
  outcome: { result?: unknown; failure?: FailureInfo },
  updateName?: string,
): void {
  for (const waiter of waiters) {
    if (outcome.failure) waiter.reject(updateFailed(updateName, outcome.failure));
    else waiter.resolve(outcome.result);
  }
}

/** The error an update's caller gets when its handler threw (Temporal's WorkflowUpdateFailedError). */
/** The error an update's callers get when its validator rejected it. */
export function updateRejected(updateName: string, failure: FailureInfo): WorkflowUpdateFailedError {
  return new WorkflowUpdateFailedError(`update ${updateName} rejected: ${failure.message}`, failure);
}

export function updateFailed(
  updateName: string | undefined,
  failure: FailureInfo,
): WorkflowUpdateFailedError {
  const what = updateName === undefined ? 'the update' : `update ${updateName}`;
  return new WorkflowUpdateFailedError(`${what} failed: ${failure.message}`, failure);
}

export function rejectAll(waiters: UpdateWaiter[], error: Error): void {
  for (const waiter of waiters) waiter.reject(error);
}

export function outcomeOfClosing(event: HistoryEvent): WorkflowOutcome {
  switch (event.type) {
    case 'WorkflowExecutionCompleted':
      return { status: 'COMPLETED', result: event.result };
    case 'WorkflowExecutionFailed':
      return { status: 'FAILED', failure: event.failure };
    case 'WorkflowExecutionCanceled':
      return { status: 'CANCELED' };
    case 'WorkflowExecutionTerminated':
      return event.reason === undefined
        ? { status: 'TERMINATED' }
        : { status: 'TERMINATED', reason: event.reason };
    case 'WorkflowExecutionTimedOut':
      return { status: 'TIMED_OUT' };
    case 'WorkflowExecutionContinuedAsNew':
      return { status: 'CONTINUED_AS_NEW', newRunId: event.newRunId };
    default:
      throw new Error(`${event.type} does not close a run`);
  }
}
