import { WorkflowNotRunningError } from '../../common/errors.js';
import type { HistoryEvent } from '../../history/events.js';
import type { RunExecutor } from '../executor.js';
import { rejectAll, settleUpdate, updateRejected } from './outcomes.js';
import type { RunEntry } from './run-entry.js';
import type { Work } from './types.js';

/**
 * Applies one piece of mailbox work to a run's executor: records what it carries, lets the workflow
 * react, and collects the resulting events in `events`. Callbacks that must wait until those events
 * are durable (answering callers) go to `after`.
 */
export async function applyWork(
  entry: RunEntry,
  executor: RunExecutor,
  work: Work,
  now: number,
  events: HistoryEvent[],
  after: (() => void)[],
  shareThread = false,
): Promise<void> {
  if (executor.status !== 'RUNNING') {
    after.push(() =>
      work.done?.(new WorkflowNotRunningError(entry.key.workflowId, entry.key.runId, executor.status)),
    );
    return;
  }
  if (work.inboxId !== undefined && staleActivityOutcome(executor, work)) {
    // An attempt's outcome from another server, for an attempt this run no longer waits on (it was
    // run again after its runner stopped renewing, and that outcome came first): recorded once.
    return;
  }
  const info = work.info?.filter((e) => e.type !== 'ActivityTaskCanceled' || executor.activities.has(e.seq));
  if (info?.length) events.push(...executor.record(info, now));
  if (work.close) events.push(...executor.record([work.close], now));
  if (work.update && !(await applyUpdate(entry, executor, work.update, now, events, after, shareThread)))
    return;
  const input = work.input;
  if (input?.type === 'WorkflowSignaled' && input.requestId && executor.signalRequests.has(input.requestId)) {
    // The same signal request again (a retry, or a re-send after a crash): recorded once.
    if (work.done) after.push(() => work.done?.());
    return;
  }
  if (input?.type === 'TimerFired' && !executor.timers.has(input.seq)) {
    // Fired by hand (`wf timer fire`) or cancelled while this firing waited in the mailbox.
    if (work.done) after.push(() => work.done?.());
    return;
  }
  const staleChildOutcome =
    (input?.type === 'ChildWorkflowExecutionCompleted' || input?.type === 'ChildWorkflowExecutionFailed') &&
    !executor.children.has(input.seq);
  // A stale child outcome was heard already (a child's chain reports its end both from its last run and on recovery).
  if (input && !staleChildOutcome) events.push(...(await executor.handle(input, now, shareThread)));
  if (work.done) after.push(() => work.done?.());
}

/** Validates and accepts an update; false when the work ends here (a repeat, or rejected). */
async function applyUpdate(
  entry: RunEntry,
  executor: RunExecutor,
  update: NonNullable<Work['update']>,
  now: number,
  events: HistoryEvent[],
  after: (() => void)[],
  shareThread: boolean,
): Promise<boolean> {
  const { id, name, args, header } = update;
  const settled = executor.completedUpdates.get(id);
  if (settled) {
    // The same update ID again (a client retry): answer with the recorded outcome.
    const waiters = entry.updateWaiters.get(id) ?? [];
    entry.updateWaiters.delete(id);
    after.push(() => settleUpdate(waiters, settled, name));
    return false;
  }
  if (executor.openUpdates.has(id)) return false; // accepted already: its waiters hear when it completes
  const validation = executor.validateUpdate(id, name, args);
  if (!validation.accepted) {
    events.push(
      ...executor.record(
        [{ type: 'WorkflowUpdateRejected', updateId: id, updateName: name, failure: validation.failure }],
        now,
      ),
    );
    const waiters = entry.updateWaiters.get(id) ?? [];
    entry.updateWaiters.delete(id);
    const error = updateRejected(name, validation.failure);
    after.push(() => rejectAll(waiters, error));
    return false;
  }
  events.push(
    ...(await executor.handle(
      { type: 'WorkflowUpdateAccepted', updateId: id, updateName: name, args, ...(header ? { header } : {}) },
      now,
      shareThread,
    )),
  );
  return true;
}

/** True when `work` reports an activity attempt the run does not wait on now. */
function staleActivityOutcome(executor: RunExecutor, work: Work): boolean {
  const event = work.info?.[0] ?? work.input;
  if (!event?.type.startsWith('ActivityTask') || !('seq' in event)) return false;
  const pending = executor.activities.get(event.seq);
  if (!pending) return true;
  return 'attempt' in event && typeof event.attempt === 'number' && event.attempt !== pending.attempt;
}
