import { ACTIVITY_OPTION_KEYS, type ActivityOptions, compileActivityOptions } from './activity-options.js';
import { ActivityFailure, CancelledFailure } from './failures.js';
import { type CapturedStack, captureStack, currentRun } from './run-state.js';

/** Marks an activity reference made by the bundler in place of an imported activity function. */
export const ACTIVITY_REF = Symbol.for('wf.activityRef');

// biome-ignore lint/suspicious/noExplicitAny: any[] parameters let every concrete function type match, as in Temporal's SDK
type AnyFunction = (...args: any[]) => any;

/** Activity functions as workflow code sees them: each returns a promise of its result. */
export type ActivityInterfaceFor<T> = {
  [K in keyof T]: T[K] extends AnyFunction
    ? (...args: Parameters<T[K]>) => Promise<Awaited<ReturnType<T[K]>>>
    : never;
};

const DEFAULT_OPTIONS: ActivityOptions = { startToCloseTimeout: '10 minutes' };

/**
 * Activities as functions that schedule them: each call records an ActivityTaskScheduled event and
 * resolves with the activity's result, retried by the options' retry policy.
 *
 * @example
 * const { shipOrder } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });
 * await shipOrder(order);
 */
export function proxyActivities<A = Record<string, AnyFunction>>(
  options: ActivityOptions,
): ActivityInterfaceFor<A> {
  const compiled = compileActivityOptions(options);
  return new Proxy({} as ActivityInterfaceFor<A>, {
    get(_target, name) {
      if (typeof name !== 'string') return undefined;
      if (name === 'then') return undefined;
      return (...args: unknown[]) => scheduleActivity(name, args, compiled, captureStack());
    },
  });
}

/**
 * Temporal's local activities. wf runs every activity in the engine's own process, so a local
 * activity is an ordinary one: recorded, retried and timed out the same way (Temporal's
 * local-only options, such as `localRetryThreshold`, are ignored).
 *
 * @example
 * const { validate } = proxyLocalActivities<typeof activities>({ startToCloseTimeout: '5 seconds' });
 */
export function proxyLocalActivities<A = Record<string, AnyFunction>>(
  options: ActivityOptions & { localRetryThreshold?: unknown; scheduleToStartTimeout?: unknown },
): ActivityInterfaceFor<A> {
  return proxyActivities<A>(options);
}

/**
 * Runs the imported activity function `fn` as an activity. Options may come first:
 * `executeActivity(shipOrder, { startToCloseTimeout: '1m' }, order)`; without them the activity
 * gets a 10-minute start-to-close timeout and the default retry policy.
 */
export function executeActivity<F extends AnyFunction>(
  fn: F,
  options: ActivityOptions,
  ...args: Parameters<F>
): Promise<Awaited<ReturnType<F>>>;
export function executeActivity<F extends AnyFunction>(
  fn: F,
  ...args: Parameters<F>
): Promise<Awaited<ReturnType<F>>>;
export function executeActivity(fn: AnyFunction | string, ...rest: unknown[]): Promise<unknown> {
  const stack = captureStack();
  const activityType = activityTypeOf(fn);
  let options = DEFAULT_OPTIONS;
  if (looksLikeOptions(rest[0])) {
    options = rest.shift() as ActivityOptions;
  }
  return scheduleActivity(activityType, rest, compileActivityOptions(options), stack);
}

function activityTypeOf(fn: unknown): string {
  if (typeof fn === 'string') return fn;
  const ref = typeof fn === 'function' ? (fn as unknown as Record<symbol, unknown>)[ACTIVITY_REF] : undefined;
  if (typeof ref === 'string') return ref;
  throw new TypeError(
    'executeActivity() needs an activity imported from your activities module (or its name as a string). ' +
      'wf replaces activity imports in workflow code with references; this function is not one. ' +
      'Check that it is exported from src/activities/index.ts.',
  );
}

function looksLikeOptions(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => ACTIVITY_OPTION_KEYS.has(k));
}

function scheduleActivity(
  activityType: string,
  args: unknown[],
  options: ReturnType<typeof compileActivityOptions>,
  stack: CapturedStack | undefined,
): Promise<unknown> {
  const run = currentRun('an activity call');
  const scope = run.currentScope();
  if (scope.consideredCancelled) {
    return Promise.reject(
      new ActivityFailure(
        `activity ${activityType} cancelled before it started`,
        activityType,
        new CancelledFailure(),
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const { seq } = run.scheduleActivity(activityType, args, options, stack);
    run.activities.set(seq, { resolve, reject, activityType, stack, since: run.nextWait() });
    const cancellationType = options.cancellationType ?? 'TRY_CANCEL';
    scope.cancelRequested.catch(() => {
      if (!run.activities.has(seq)) return;
      // WAIT_CANCELLATION_COMPLETED: the activity's own end (cancelled, or done anyway) settles the call.
      if (cancellationType !== 'ABANDON') run.push({ type: 'requestCancelActivity', seq, stack });
      if (cancellationType === 'WAIT_CANCELLATION_COMPLETED') return;
      run.activities.delete(seq);
      reject(new ActivityFailure(`activity ${activityType} cancelled`, activityType, new CancelledFailure()));
    });
  });
}
