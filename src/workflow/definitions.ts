/** A signal: a message sent to a running workflow, recorded in its history. */
export interface SignalDefinition<Args extends unknown[] = [], Name extends string = string> {
  type: 'signal';
  name: Name;
  /** Carries the argument types; never set at run time. */
  __args?: Args;
}

/** A query: a read of a running workflow's state. Not recorded. Its handler must not change state. */
export interface QueryDefinition<Ret, Args extends unknown[] = [], Name extends string = string> {
  type: 'query';
  name: Name;
  __args?: Args;
  __ret?: Ret;
}

/** An update: a recorded request that may change state and returns a result to its caller. */
export interface UpdateDefinition<Ret, Args extends unknown[] = [], Name extends string = string> {
  type: 'update';
  name: Name;
  __args?: Args;
  __ret?: Ret;
}

/**
 * Defines a signal.
 * @example
 * export const approve = defineSignal<[approver: string]>('approve');
 */
export function defineSignal<Args extends unknown[] = [], Name extends string = string>(
  name: Name,
): SignalDefinition<Args, Name> {
  return { type: 'signal', name };
}

/**
 * Defines a query.
 * @example
 * export const progress = defineQuery<number>('progress');
 */
export function defineQuery<Ret, Args extends unknown[] = [], Name extends string = string>(
  name: Name,
): QueryDefinition<Ret, Args, Name> {
  return { type: 'query', name };
}

/**
 * Defines an update.
 * @example
 * export const setDiscount = defineUpdate<number, [percent: number]>('setDiscount');
 */
export function defineUpdate<Ret, Args extends unknown[] = [], Name extends string = string>(
  name: Name,
): UpdateDefinition<Ret, Args, Name> {
  return { type: 'update', name };
}

/** Any workflow function. */
// biome-ignore lint/suspicious/noExplicitAny: any[] parameters let every concrete function type match, as in Temporal's SDK
export type Workflow = (...args: any[]) => Promise<unknown>;
