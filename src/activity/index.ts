/**
 * `wfkit/activity`: what activity code imports. Activities are ordinary async functions run by the
 * host; `Context.current()` gives the one running its identity (`info`), a heartbeat, cancellation,
 * a cancellable sleep and a logger. The names follow Temporal's `@temporalio/activity`.
 */
import type { Duration } from '../common/duration.js';
import { Context } from './context.js';
import type { Info } from './info.js';
import type { Logger, LogLevel, LogMetadata } from './log.js';

export {
  ApplicationFailure,
  ApplicationFailureCategory,
  type ApplicationFailureOptions,
  CancelledFailure,
  TimeoutFailure,
} from '../common/failures.js';
export { CompleteAsyncError } from './complete-async.js';
export { type ActivityHost, Context } from './context.js';
export type { ActivityInfo, Info } from './info.js';
export type { ActivityLogContext, ActivityLogRecord, Logger, LogLevel, LogMetadata } from './log.js';

// biome-ignore lint/suspicious/noExplicitAny: Temporal's ActivityFunction, so that activity maps typed for Temporal type-check
export type ActivityFunction<P extends any[] = any[], R = any> = (...args: P) => Promise<R>;

/**
 * Who and where the running activity is: workflow and run IDs, activity ID and type, attempt,
 * timeouts, the last heartbeat's details, the task token.
 * @example
 * const { attempt, heartbeatDetails } = activityInfo();
 */
export function activityInfo(): Info {
  return Context.current().info;
}

/**
 * The running activity's logger (`Context.current().log`). Under `wf dev` lines appear with the
 * server's output (and in `--log-format json` with their workflow and activity IDs); in tests they go
 * where `TestWorkflowEnvironment`'s `activityLog` option or `MockActivityEnvironment` sends them.
 * @example
 * log.info('charging card', { orderId });
 */
export const log: Logger = {
  log: (level: LogLevel, message: string, meta?: LogMetadata) =>
    Context.current().log.log(level, message, meta),
  trace: (message: string, meta?: LogMetadata) => Context.current().log.trace(message, meta),
  debug: (message: string, meta?: LogMetadata) => Context.current().log.debug(message, meta),
  info: (message: string, meta?: LogMetadata) => Context.current().log.info(message, meta),
  warn: (message: string, meta?: LogMetadata) => Context.current().log.warn(message, meta),
  error: (message: string, meta?: LogMetadata) => Context.current().log.error(message, meta),
};

/** Shorthand for `Context.current().heartbeat(details)`. */
export function heartbeat(details?: unknown): void {
  Context.current().heartbeat(details);
}

/** Shorthand for `Context.current().sleep(duration)`. */
export function sleep(duration: Duration): Promise<void> {
  return Context.current().sleep(duration);
}

/** Shorthand for `Context.current().cancelled`. */
export function cancelled(): Promise<never> {
  return Context.current().cancelled;
}

/** Shorthand for `Context.current().cancellationSignal`. */
export function cancellationSignal(): AbortSignal {
  return Context.current().cancellationSignal;
}
