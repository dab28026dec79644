/**
 * `wfkit/activity`: what activity code imports. Activities are ordinary async functions run by the
 * host; `Context.current()` gives the one running its identity, a heartbeat and a cancellation signal.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Duration, toMs } from '../common/duration.js';
import { CancelledFailure } from '../common/failures.js';

export {
  ApplicationFailure,
  CancelledFailure,
  TimeoutFailure,
} from '../common/failures.js';

/** Who and where the running activity is. */
export interface ActivityInfo {
  workflowId: string;
  runId: string;
  workflowType: string;
  activityId: string;
  activityType: string;
  /** 1 for the first attempt, 2 for the first retry... */
  attempt: number;
  /**
   * Stable across retries and restarts of this activity: pass it to payment providers and other
   * services as their idempotency key, so an attempt repeated after a crash is not applied twice.
   */
  idempotencyKey: string;
  scheduledTime: Date;
  /** Details of the last heartbeat of a previous attempt, if any. */
  heartbeatDetails?: unknown;
  startToCloseTimeoutMs?: number;
  heartbeatTimeoutMs?: number;
}

/** What the engine provides to a running activity. */
export interface ActivityHost {
  heartbeat(details?: unknown): void;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

const storage = new AsyncLocalStorage<Context>();

/** The context of the running activity. */
export class Context {
  /** The activity running in the current async context; throws outside an activity. */
  static current(): Context {
    const context = storage.getStore();
    if (!context) {
      throw new Error(
        'Context.current() can only be called while an activity runs (from code the activity calls)',
      );
    }
    return context;
  }

  /** Aborted when the activity is cancelled or times out; `reason` is a CancelledFailure or TimeoutFailure. */
  readonly cancellationSignal: AbortSignal;
  /** Rejects with the cancellation reason once the activity is cancelled. */
  readonly cancelled: Promise<never>;

  constructor(
    readonly info: ActivityInfo,
    signal: AbortSignal,
    private readonly host: ActivityHost,
  ) {
    this.cancellationSignal = signal;
    this.cancelled = new Promise<never>((_, reject) => {
      const fire = () => reject(signal.reason ?? new CancelledFailure());
      if (signal.aborted) fire();
      else signal.addEventListener('abort', fire, { once: true });
    });
    this.cancelled.catch(() => undefined);
  }

  /** Reports progress; keeps a heartbeat timeout from firing. `details` reach the next attempt. */
  heartbeat(details?: unknown): void {
    this.host.heartbeat(details);
  }

  /** Waits, or rejects as soon as the activity is cancelled. Honours the test environment's time skipping. */
  sleep(duration: Duration): Promise<void> {
    return this.host.sleep(toMs(duration, 'sleep duration'), this.cancellationSignal);
  }

  /** @internal Runs `fn` with this context as `Context.current()`. */
  run<T>(fn: () => T): T {
    return storage.run(this, fn);
  }
}

/** Shorthand for `Context.current().heartbeat(details)`. */
export function heartbeat(details?: unknown): void {
  Context.current().heartbeat(details);
}

/** Shorthand for `Context.current().sleep(duration)`. */
export function sleep(duration: Duration): Promise<void> {
  return Context.current().sleep(duration);
}

/** Shorthand for `Context.current().cancellationSignal`. */
export function cancellationSignal(): AbortSignal {
  return Context.current().cancellationSignal;
}
