import { CancellationScope } from './cancellation-scope.js';
import { type Duration, toMs } from './duration.js';
import { CancelledFailure } from './failures.js';
import { captureStack, currentRun } from './run-state.js';

/**
 * Waits durably: the timer is recorded, survives restarts, and fires at its original deadline.
 * Rejects with CancelledFailure if the current cancellation scope is cancelled first.
 *
 * @example
 * await sleep('30 days');
 */
export function sleep(duration: Duration, options: { summary?: string } = {}): Promise<void> {
  const run = currentRun('sleep');
  const durationMs = toMs(duration, 'sleep duration');
  const scope = run.currentScope();
  if (scope.consideredCancelled)
    return Promise.reject(new CancelledFailure('sleep cancelled before it started'));
  const seq = run.nextSeq('timer');
  return new Promise<void>((resolve, reject) => {
    run.timers.set(seq, { resolve: () => resolve(), reject });
    scope.cancelRequested.catch((err: unknown) => {
      if (!run.timers.has(seq)) return;
      run.timers.delete(seq);
      run.push({ type: 'cancelTimer', seq });
      reject(err);
    });
    const command = { type: 'startTimer' as const, seq, durationMs, stack: captureStack() };
    run.push(options.summary === undefined ? command : { ...command, summary: options.summary });
  });
}

/**
 * Waits until `fn` returns true. With a timeout, resolves true if it did and false if time ran out.
 *
 * @example
 * const approved = await condition(() => decision !== undefined, '7 days');
 */
export function condition(fn: () => boolean, timeout: Duration): Promise<boolean>;
export function condition(fn: () => boolean): Promise<void>;
export async function condition(fn: () => boolean, timeout?: Duration): Promise<boolean | void> {
  currentRun('condition');
  if (timeout === undefined) return waitFor(fn);
  return CancellationScope.cancellable(async () => {
    try {
      return await Promise.race([sleep(timeout).then(() => false), waitFor(fn).then(() => true)]);
    } finally {
      CancellationScope.current().cancel();
    }
  });
}

function waitFor(fn: () => boolean): Promise<void> {
  const run = currentRun('condition');
  const scope = run.currentScope();
  if (scope.consideredCancelled) return Promise.reject(new CancelledFailure('condition cancelled'));
  return new Promise<void>((resolve, reject) => {
    const entry = { fn, resolve };
    run.conditions.add(entry);
    scope.cancelRequested.catch((err: unknown) => {
      if (run.conditions.delete(entry)) reject(err);
    });
  });
}
