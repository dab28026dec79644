import { startTimer } from './durable-timer.js';
import type { Duration } from './duration.js';
import { CancelledFailure } from './failures.js';
import { type CapturedStack, captureStack, currentRun } from './run-state.js';

export interface CancellationScopeOptions {
  /** Whether cancelling the parent cancels this scope. Default true. */
  cancellable?: boolean;
  parent?: CancellationScope;
  /** Cancel the scope after this long. */
  timeout?: Duration;
}

/**
 * A tree of cancellable work, as in Temporal. Timers, activities and children started inside a scope
 * are cancelled when the scope is; a non-cancellable scope shields its work from its parent's
 * cancellation.
 *
 * @example
 * await CancellationScope.nonCancellable(() => compensate());
 */
export class CancellationScope {
  readonly cancellable: boolean;
  readonly parent?: CancellationScope;
  /** Rejects with CancelledFailure when the scope is cancelled. */
  readonly cancelRequested: Promise<never>;
  private requested = false;
  private rejectCancel!: (reason: CancelledFailure) => void;
  private readonly timeout?: Duration;
  /** Where the scope with a timeout was made: its timer's call site. */
  private readonly timeoutStack?: CapturedStack;

  constructor(options: CancellationScopeOptions = {}) {
    this.cancellable = options.cancellable ?? true;
    this.timeout = options.timeout;
    // Kept even while replaying: run() may start the timer in a later, new activation.
    if (options.timeout !== undefined) this.timeoutStack = captureStack(true);
    this.cancelRequested = new Promise<never>((_, reject) => {
      this.rejectCancel = reject;
    });
    this.cancelRequested.catch(() => undefined);
    const parent = options.parent ?? currentScopeOrUndefined();
    if (parent) {
      this.parent = parent;
      if (this.cancellable) {
        if (parent.consideredCancelled) this.cancel();
        else parent.cancelRequested.catch((err: CancelledFailure) => this.cancel(err));
      }
    }
  }

  /** True once cancellation was requested and the scope is cancellable (directly or through an ancestor). */
  get consideredCancelled(): boolean {
    return this.requested && this.cancellable;
  }

  /** Runs `fn` with this scope as the current scope. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return currentRun('CancellationScope.run').scopeStorage.run(this, () => {
      if (this.timeout === undefined) return fn();
      const timeout = this.timeout;
      const timerScope = new CancellationScope({ cancellable: true, parent: this });
      timerScope
        .run(() => startTimer(timeout, this.timeoutStack, undefined, 'CancellationScope timeout'))
        .then(
          () => this.cancel(new CancelledFailure('scope timed out')),
          () => undefined,
        );
      const work = fn();
      work.then(
        () => timerScope.cancel(),
        () => timerScope.cancel(),
      );
      return work;
    });
  }

  /** Requests cancellation of the scope and everything in it. */
  cancel(reason?: CancelledFailure): void {
    if (this.requested) return;
    this.requested = true;
    this.rejectCancel(reason ?? new CancelledFailure('cancellation scope cancelled'));
  }

  /** The scope of the code that is running. */
  static current(): CancellationScope {
    // A run only ever holds CancellationScopes (its root and those `run` enters); see RunScope.
    return currentRun('CancellationScope.current').currentScope() as CancellationScope;
  }

  /** Runs `fn` in a new cancellable scope. */
  static cancellable<T>(fn: () => Promise<T>): Promise<T> {
    return new CancellationScope({ cancellable: true }).run(fn);
  }

  /** Runs `fn` in a scope that its parent's cancellation does not reach. */
  static nonCancellable<T>(fn: () => Promise<T>): Promise<T> {
    return new CancellationScope({ cancellable: false }).run(fn);
  }

  /** Runs `fn` in a cancellable scope that is cancelled after `timeout`. */
  static withTimeout<T>(timeout: Duration, fn: () => Promise<T>): Promise<T> {
    return new CancellationScope({ cancellable: true, timeout }).run(fn);
  }
}

function currentScopeOrUndefined(): CancellationScope | undefined {
  try {
    return CancellationScope.current();
  } catch {
    return undefined;
  }
}
