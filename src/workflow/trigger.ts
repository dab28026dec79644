import { CancellationScope } from './cancellation-scope.js';

/**
 * A promise whose `resolve` and `reject` are yours to call, as in Temporal. It rejects with a
 * CancelledFailure when the scope it was made in is cancelled.
 *
 * @example
 * const approved = new Trigger<boolean>();
 * setHandler(approve, () => approved.resolve(true));
 * await Promise.race([approved, sleep('7 days')]);
 */
export class Trigger<T> implements PromiseLike<T> {
  readonly resolve!: (value: T | PromiseLike<T>) => void;
  readonly reject!: (reason?: unknown) => void;
  private readonly promise: Promise<T>;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      Object.assign(this, { resolve, reject });
      const scope = CancellationScope.current();
      if (scope.cancellable) scope.cancelRequested.catch(reject);
    });
    // Unawaited, it must not count as an unhandled rejection.
    this.promise.catch(() => undefined);
  }

  // biome-ignore lint/suspicious/noThenProperty: a Trigger is awaited like a promise, as in Temporal
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.promise.then(onfulfilled, onrejected);
  }
}
