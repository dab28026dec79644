/**
 * An AbortController made on first use: most activity attempts end without anyone looking at their
 * signal or aborting them, and each controller and signal costs a few microseconds per step.
 */
export class LazyAbortController {
  private controller: AbortController | undefined;

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  /** Whether abort() was called, without making the signal. */
  get aborted(): boolean {
    return this.controller?.signal.aborted ?? false;
  }

  /** The reason abort() was given, without making the signal. */
  get reason(): unknown {
    return this.controller?.signal.reason;
  }

  abort(reason?: unknown): void {
    this.controller ??= new AbortController();
    this.controller.abort(reason);
  }
}
