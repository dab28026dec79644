// Workflows in the style of Temporal's documentation, one per pattern; only the import differs
// from `@temporalio/workflow`.
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  inWorkflowContext,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  rootCause,
  setDefaultQueryHandler,
  setDefaultSignalHandler,
  setDefaultUpdateHandler,
  setHandler,
  sleep,
  startChild,
  Trigger,
  workflowInfo,
} from 'wfkit/workflow';
import type * as activities from '../activities/index.js';

const { greet, chargeCard, nothing } = proxyActivities<typeof activities>({
  startToCloseTimeout: '1 minute',
});

// --- Parent close policy -------------------------------------------------------------------------

export const finishSignal = defineSignal('finish');

export async function longChild(): Promise<string> {
  let finished = false;
  setHandler(finishSignal, () => {
    finished = true;
  });
  await condition(() => finished);
  return 'child done';
}

/** Starts a child that outlives it (ABANDON), or one that is cancelled with it (REQUEST_CANCEL). */
export async function parentOfAbandoned(policy: 'ABANDON' | 'REQUEST_CANCEL'): Promise<string> {
  const child = await startChild(longChild, {
    workflowId: `${workflowInfo().workflowId}-child`,
    parentClosePolicy: policy === 'ABANDON' ? ParentClosePolicy.ABANDON : ParentClosePolicy.REQUEST_CANCEL,
  });
  return child.workflowId;
}

// --- Activity cancellation types -----------------------------------------------------------------

/**
 * Starts a long activity, cancels it after a second, then records what it saw and runs one more
 * activity: the history shows whether the workflow waited for the activity's end.
 */
export async function cancelReport(cancellationType: ActivityCancellationType): Promise<string> {
  const { longReport } = proxyActivities<typeof activities>({
    startToCloseTimeout: '1 hour',
    cancellationType,
  });
  const scope = new CancellationScope();
  const report = scope.run(() => longReport(30));
  await sleep('1 second');
  scope.cancel();
  let outcome: string;
  try {
    outcome = await report;
  } catch (err) {
    outcome = isCancellation(err) ? 'cancelled' : `failed: ${(err as Error).message}`;
  }
  await nothing();
  if (cancellationType === ActivityCancellationType.ABANDON) {
    // Give the abandoned activity time to end on its own: its outcome is recorded, and ignored.
    await sleep('1 minute');
  }
  return outcome;
}

// --- Waiting for handlers ------------------------------------------------------------------------

export const addItem = defineUpdate<number, [string]>('addItem');
export const closeCart = defineSignal('closeCart');

/** Update handlers do slow work; the workflow returns only once every handler finished. */
export async function cart(): Promise<string[]> {
  const items: string[] = [];
  let closed = false;
  setHandler(addItem, async (item) => {
    await sleep('10 seconds');
    items.push(await greet(item));
    return items.length;
  });
  setHandler(closeCart, () => {
    closed = true;
  });
  await condition(() => closed);
  await condition(allHandlersFinished);
  return items;
}

// --- workflowInfo --------------------------------------------------------------------------------

export async function describeSelf(): Promise<Record<string, unknown>> {
  const info = workflowInfo();
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    workflowType: info.workflowType,
    taskQueue: info.taskQueue,
    namespace: info.namespace,
    firstExecutionRunId: info.firstExecutionRunId,
    attempt: info.attempt,
    searchAttributes: info.searchAttributes,
    startTime: info.startTime.toISOString(),
    runStartTime: info.runStartTime.toISOString(),
    runTimeoutMs: info.runTimeoutMs ?? null,
    executionTimeoutMs: info.executionTimeoutMs ?? null,
    historyLength: info.historyLength,
    continueAsNewSuggested: info.continueAsNewSuggested,
    isReplaying: info.unsafe.isReplaying,
  };
}

// --- setTimeout / clearTimeout -------------------------------------------------------------------

/** Plain timers, as a library inside a workflow would use them: durable in wf as in Temporal. */
export async function plainTimers(): Promise<string[]> {
  const fired: string[] = [];
  const cancelled = setTimeout(() => fired.push('cancelled timer'), 5_000);
  setTimeout((label: string) => fired.push(label), 2_000, 'two seconds');
  clearTimeout(cancelled);
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  fired.push('one minute');
  return fired;
}

// --- undefined stays undefined -------------------------------------------------------------------

export const peek = defineQuery<string | undefined>('peek');
export const touch = defineUpdate<undefined>('touch');

export async function returnsNothing(): Promise<undefined> {
  const fromActivity = await nothing();
  if (fromActivity !== undefined) throw ApplicationFailure.nonRetryable(`activity gave ${fromActivity}`);
  let touched = false;
  setHandler(peek, () => undefined);
  setHandler(touch, () => {
    touched = true;
    return undefined;
  });
  await condition(() => touched);
  return undefined;
}

// --- Rejected and failed updates -----------------------------------------------------------------

export const withdraw = defineUpdate<number, [number]>('withdraw');
export const stop = defineSignal('stop');

export async function account(): Promise<number> {
  let balance = 100;
  let stopped = false;
  setHandler(
    withdraw,
    (amount) => {
      if (amount > 50) throw ApplicationFailure.nonRetryable('insufficient funds', 'InsufficientFunds');
      balance -= amount;
      return balance;
    },
    {
      validator: (amount) => {
        if (amount <= 0) throw new Error(`amount must be positive, got ${amount}`);
      },
    },
  );
  setHandler(stop, () => {
    stopped = true;
  });
  await condition(() => stopped);
  return balance;
}

// --- Failure causes ------------------------------------------------------------------------------

/** Reads the cause of an activity failure as Temporal code does: `err.cause` is an `Error`. */
export async function declinedPayment(amount: number): Promise<string> {
  try {
    return await chargeCard(amount);
  } catch (err) {
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
      return `${err.cause.type}: ${err.cause.message}`;
    }
    // `cause` is typed `Error | undefined`: its message reads without a cast.
    if (err instanceof ActivityFailure) return err.cause?.message ?? 'no cause';
    throw err;
  }
}

// --- Trigger, local activities, rootCause --------------------------------------------------------

export const approve = defineSignal<[string]>('approve');

/** Waits for an approval (a Trigger resolved by a signal) or a day, then greets via a local activity. */
export async function approval(): Promise<string> {
  const { greet: greetLocally, chargeCard: chargeLocally } = proxyLocalActivities<typeof activities>({
    startToCloseTimeout: '5 seconds',
  });
  const approvedBy = new Trigger<string>();
  setHandler(approve, (name) => approvedBy.resolve(name));
  const who = await Promise.race([approvedBy, sleep('1 day').then(() => 'nobody')]);
  let declined = '';
  try {
    await chargeLocally(5000);
  } catch (err) {
    declined = rootCause(err) ?? '';
  }
  return `${await greetLocally(who)} (in workflow context: ${inWorkflowContext()}; ${declined})`;
}

// --- Default handlers ----------------------------------------------------------------------------

/** Records every signal and update by name; answers any query from what it recorded. */
export async function recorder(): Promise<Record<string, unknown[]>> {
  const seen: Record<string, unknown[]> = {};
  // A signal sent before any handler is set is kept, then delivered to the default handler.
  await sleep('1 second');
  setDefaultSignalHandler((name, ...args) => {
    seen[name] = [...(seen[name] ?? []), ...args];
  });
  setDefaultQueryHandler((name) => seen[name]);
  setDefaultUpdateHandler((name, ...args) => {
    seen[name] = args;
    return Object.keys(seen).length;
  });
  await condition(() => seen.stop !== undefined);
  return seen;
}
