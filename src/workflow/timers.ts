import { CancellationScope } from './cancellation-scope.js';
import { startTimer } from './durable-timer.js';
import type { Duration } from './duration.js';
import { CancelledFailure } from './failures.js';
import { type CapturedStack, captureStack, currentRun } from './run-state.js';

/**
 * Waits durably: the timer is recorded, survives restarts, and fires at its original deadline.
 * Rejects with CancelledFailure if the current cancellation scope is cancelled first. Throws a
 * TypeError for a duration that is negative or longer than 100 years (3,155,760,000,000 ms).
 *
 * @example
 * await sleep('30 days');
 */
export function sleep(duration: Duration, options: { summary?: string } = {}): Promise<void> {
  return startTimer(duration, captureStack(), options.summary, 'sleep');
}

/**
 * Waits until `fn` returns true. With a timeout (at most 100 years), resolves true if it did and
 * false if time ran out.
 *
 * @example
 * const approved = await condition(() => decision !== undefined, '7 days');
 */
export function condition(fn: () => boolean, timeout: Duration): Promise<boolean>;
export function condition(fn: () => boolean): Promise<void>;
export async function condition(fn: () => boolean, timeout?: Duration): Promise<boolean | void> {
  const stack = captureStack();
  currentRun('condition');
  if (timeout === undefined) return waitFor(fn, stack);
  return CancellationScope.cancellable(async () => {
    try {
      return await Promise.race([
        startTimer(timeout, stack, undefined, 'condition timeout').then(() => false),
        waitFor(fn, stack).then(() => true),
      ]);
    } finally {
      CancellationScope.current().cancel();
    }
  });
}

function waitFor(fn: () => boolean, stack: CapturedStack | undefined): Promise<void> {
  const run = currentRun('condition');
  const scope = run.currentScope();
  if (scope.consideredCancelled) return Promise.reject(new CancelledFailure('condition cancelled'));
  return new Promise<void>((resolve, reject) => {
    const entry = { fn, resolve, stack, since: run.nextWait() };
    run.conditions.add(entry);
    scope.cancelRequested.catch((err: unknown) => {
      if (run.conditions.delete(entry)) reject(err);
    });
  });
}
