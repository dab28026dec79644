import { AsyncLocalStorage } from 'node:async_hooks';
import { type Duration, toMs } from '../common/duration.js';
import { CancelledFailure, TimeoutFailure } from '../common/failures.js';
import type { Info } from './info.js';
import { type ActivityLogRecord, activityLogger, type Logger } from './log.js';

/** What the host that runs an activity (the engine, MockActivityEnvironment) provides its context. */
export interface ActivityHost {
  heartbeat(details?: unknown): void;
  /** Resolves after `ms` on the host's clock; rejects with `signal.reason` once it aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Receives the activity's `log` lines. */
  log(record: ActivityLogRecord): void;
}

// One storage for every copy of wfkit loaded in the process (an activity module may resolve its own).
const STORAGE_KEY = Symbol.for('wf.activity.contextStorage');
const holder = globalThis as { [STORAGE_KEY]?: AsyncLocalStorage<Context> };
holder[STORAGE_KEY] ??= new AsyncLocalStorage<Context>();
const storage: AsyncLocalStorage<Context> = holder[STORAGE_KEY];

/**
 * The context of the running activity: who it is, heartbeats, cancellation, a cancellable sleep
 * and a logger. `Context.current()` finds it from any code the activity calls.
 * @example
 * export async function sendReport(id: string): Promise<void> {
 *   const ctx = Context.current();
 *   ctx.log.info('sending', { id, attempt: ctx.info.attempt });
 *   await ctx.sleep('1s');
 *   ctx.heartbeat({ sent: 1 });
 * }
 */
export class Context {
  /** The activity running in the current async context; throws outside an activity. */
  static current(): Context {
    const context = storage.getStore();
    if (!context) {
      throw new Error(
        'Context.current() can only be called while an activity runs (from code the activity calls); ' +
          'in a unit test, run the activity with MockActivityEnvironment from wfkit/testing',
      );
    }
    return context;
  }

  private signal: AbortSignal | (() => AbortSignal);
  private attemptInfo: Info | (() => Info);
  private cancelledPromise: Promise<never> | undefined;
  private logger: Logger | undefined;

  /**
   * Made by the host; activity code gets its context from `Context.current()`. `info` and `signal`
   * may be functions that make them on first use (most activities read neither).
   */
  constructor(
    info: Info | (() => Info),
    signal: AbortSignal | (() => AbortSignal),
    private readonly host: ActivityHost,
  ) {
    this.attemptInfo = info;
    this.signal = signal;
  }

  /** The attempt: its activity, workflow, attempt number, timeouts and task token. */
  get info(): Info {
    if (typeof this.attemptInfo === 'function') this.attemptInfo = this.attemptInfo();
    return this.attemptInfo;
  }

  /**
   * Aborted when the activity is cancelled or times out; `reason` is a CancelledFailure (cancelled by
   * the workflow) or a TimeoutFailure (a timeout fired). Pass it to fetch and other cancellable APIs.
   */
  get cancellationSignal(): AbortSignal {
    if (typeof this.signal === 'function') this.signal = this.signal();
    return this.signal;
  }

  /**
   * Rejects with a CancelledFailure once the activity is cancelled or times out (Temporal's
   * `TIMED_OUT` cancellation, with the TimeoutFailure as its `cause`). Never resolves.
   */
  get cancelled(): Promise<never> {
    // Made on first use: most activities never look, and every attempt makes a context.
    if (!this.cancelledPromise) {
      const signal = this.cancellationSignal;
      this.cancelledPromise = new Promise<never>((_, reject) => {
        const fire = () => reject(asCancellation(signal.reason));
        if (signal.aborted) fire();
        else signal.addEventListener('abort', fire, { once: true });
      });
      this.cancelledPromise.catch(() => undefined);
    }
    return this.cancelledPromise;
  }

  /** The activity's logger: each line carries the workflow and activity IDs, the type and the attempt. */
  get log(): Logger {
    const { info, host } = this;
    this.logger ??= activityLogger(
      {
        workflowId: info.workflowExecution.workflowId,
        runId: info.workflowExecution.runId,
        workflowType: info.workflowType,
        activityId: info.activityId,
        activityType: info.activityType,
        attempt: info.attempt,
      },
      (record) => host.log(record),
    );
    return this.logger;
  }

  set log(logger: Logger) {
    this.logger = logger;
  }

  /**
   * Reports progress and keeps a heartbeat timeout from firing. `details` are kept for the next
   * attempt (`info.heartbeatDetails`). A bound function: `const { heartbeat } = Context.current()` works.
   */
  readonly heartbeat = (details?: unknown): void => {
    this.host.heartbeat(details);
  };

  /**
   * Waits `duration` (milliseconds or '30s'), or rejects with a CancelledFailure as soon as the
   * activity is cancelled. Honours the test environment's time skipping. A bound function.
   */
  readonly sleep = (duration: Duration): Promise<void> =>
    this.host
      .sleep(toMs(duration, 'sleep duration'), this.cancellationSignal)
      .catch((reason: unknown) => Promise.reject(asCancellation(reason)));

  /**
   * Temporal's worker-side client: not offered by wf. Throws, saying to create a client with
   * `connect()` from 'wfkit/client' instead.
   */
  get client(): never {
    throw new Error(
      "Context.current().client is not supported by wf: wf gives activities no client of their own. Create one with connect() from 'wfkit/client' (it reaches the server through WF_ADDRESS). See docs/temporal.md (Activities).",
    );
  }

  /** @internal Runs `fn` with this context as `Context.current()`. */
  run<T>(fn: () => T): T {
    return storage.run(this, fn);
  }
}

/** What `cancelled` and `sleep` reject with: a CancelledFailure, as in Temporal (a timeout is `TIMED_OUT`). */
function asCancellation(reason: unknown): unknown {
  if (reason instanceof TimeoutFailure) return new CancelledFailure('TIMED_OUT', [], reason);
  return reason ?? new CancelledFailure('CANCELLED');
}
