import { type Duration, toMs } from './duration.js';
import { CancelledFailure } from './failures.js';
import { type CapturedStack, currentRun } from './run-state.js';

/**
 * A durable timer started on behalf of the code at `stack` (sleep, condition with a timeout, a
 * scope's timeout): its TimerStarted event names that line, and so does a divergence at it.
 */
export function startTimer(
  duration: Duration,
  stack: CapturedStack | undefined,
  summary: string | undefined,
  api: string,
): Promise<void> {
  const run = currentRun(api);
  const durationMs = toMs(duration, `${api} duration`);
  const scope = run.currentScope();
  if (scope.consideredCancelled)
    return Promise.reject(new CancelledFailure(`${api} cancelled before it started`));
  const seq = run.nextSeq('timer');
  return new Promise<void>((resolve, reject) => {
    run.timers.set(seq, { resolve: () => resolve(), reject, stack, since: run.nextWait() });
    scope.cancelRequested.catch((err: unknown) => {
      if (!run.timers.has(seq)) return;
      run.timers.delete(seq);
      run.push({ type: 'cancelTimer', seq, stack });
      reject(err);
    });
    const command = { type: 'startTimer' as const, seq, durationMs, stack };
    run.push(summary === undefined ? command : { ...command, summary });
  });
}
