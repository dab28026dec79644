import type { QueryDefinition, SignalDefinition, UpdateDefinition } from './definitions.js';
import { currentRun, type Handler } from './run-state.js';

export interface UpdateHandlerOptions<Args extends unknown[]> {
  /** Runs before the update is accepted; throw to reject it. Must not change state. */
  validator?: (...args: Args) => void;
}

/**
 * Sets (or, with `undefined`, removes) the handler of a signal, query or update.
 * Signals that arrived before their handler was set are delivered to it, in order, when it is set.
 *
 * @example
 * setHandler(approve, (approver) => { approvedBy = approver; });
 * setHandler(progress, () => percent);
 * setHandler(setDiscount, (p) => { discount = p; return total(); }, { validator: (p) => { if (p > 50) throw new Error('too much'); } });
 */
export function setHandler<Args extends unknown[]>(
  def: SignalDefinition<Args>,
  handler: ((...args: Args) => void | Promise<void>) | undefined,
): void;
export function setHandler<Ret, Args extends unknown[]>(
  def: QueryDefinition<Ret, Args>,
  handler: ((...args: Args) => Ret) | undefined,
): void;
export function setHandler<Ret, Args extends unknown[]>(
  def: UpdateDefinition<Ret, Args>,
  handler: ((...args: Args) => Ret | Promise<Ret>) | undefined,
  options?: UpdateHandlerOptions<Args>,
): void;
export function setHandler(
  def: SignalDefinition<never> | QueryDefinition<unknown, never> | UpdateDefinition<unknown, never>,
  handler: ((...args: never[]) => unknown) | undefined,
  options?: UpdateHandlerOptions<never>,
): void {
  const run = currentRun('setHandler');
  switch (def.type) {
    case 'signal': {
      if (!handler) {
        run.signalHandlers.delete(def.name);
        return;
      }
      run.signalHandlers.set(def.name, handler as Handler);
      const pending = run.bufferedSignals.filter((s) => s.name === def.name);
      if (pending.length) {
        run.bufferedSignals.splice(
          0,
          run.bufferedSignals.length,
          ...run.bufferedSignals.filter((s) => s.name !== def.name),
        );
        for (const signal of pending) deliverSignal(signal.name, signal.args);
      }
      return;
    }
    case 'query':
      if (handler) run.queryHandlers.set(def.name, handler as Handler);
      else run.queryHandlers.delete(def.name);
      return;
    case 'update':
      if (handler) {
        run.updateHandlers.set(def.name, {
          handler: handler as Handler,
          validator: options?.validator as Handler | undefined,
        });
      } else run.updateHandlers.delete(def.name);
      return;
    default:
      def satisfies never;
  }
}

/** A handler for every signal that has none of its own: called with the signal's name, then its arguments. */
export type DefaultSignalHandler = (signalName: string, ...args: unknown[]) => void | Promise<void>;
/** A handler for every query that has none of its own: called with the query's name, then its arguments. */
export type DefaultQueryHandler = (queryName: string, ...args: unknown[]) => unknown;
/** A handler for every update that has none of its own: called with the update's name, then its arguments. */
export type DefaultUpdateHandler = (updateName: string, ...args: unknown[]) => unknown;

function checkHandler(api: string, handler: unknown): void {
  if (handler !== undefined && typeof handler !== 'function') {
    throw new TypeError(`${api}() takes a function or undefined, got ${typeof handler}`);
  }
}

/**
 * Handles every signal that has no handler of its own (or, with `undefined`, stops). Signals kept
 * because no handler was set are delivered to it at once, in order.
 *
 * @example
 * setDefaultSignalHandler((name, ...args) => { events.push({ name, args }); });
 */
export function setDefaultSignalHandler(handler: DefaultSignalHandler | undefined): void {
  const run = currentRun('setDefaultSignalHandler');
  checkHandler('setDefaultSignalHandler', handler);
  run.defaultSignalHandler = handler as Handler | undefined;
  if (!handler) return;
  const pending = run.bufferedSignals.splice(0, run.bufferedSignals.length);
  for (const signal of pending) deliverSignal(signal.name, signal.args);
}

/**
 * Answers every query that has no handler of its own (or, with `undefined`, stops).
 *
 * @example
 * setDefaultQueryHandler((name) => state[name]);
 */
export function setDefaultQueryHandler(handler: DefaultQueryHandler | undefined): void {
  const run = currentRun('setDefaultQueryHandler');
  checkHandler('setDefaultQueryHandler', handler);
  run.defaultQueryHandler = handler as Handler | undefined;
}

/**
 * Handles every update that has no handler of its own (or, with `undefined`, stops); such updates
 * have no validator.
 *
 * @example
 * setDefaultUpdateHandler((name, value) => { settings[name] = value; return settings; });
 */
export function setDefaultUpdateHandler(handler: DefaultUpdateHandler | undefined): void {
  const run = currentRun('setDefaultUpdateHandler');
  checkHandler('setDefaultUpdateHandler', handler);
  run.defaultUpdateHandler = handler as Handler | undefined;
}

/** Calls a signal's handler, or keeps the signal until a handler is set. */
export function deliverSignal(name: string, args: unknown[]): void {
  const run = currentRun('signal');
  const handler = run.signalHandler(name);
  if (!handler) {
    run.bufferedSignals.push({ name, args });
    return;
  }
  let outcome: unknown;
  try {
    outcome = handler(...args);
  } catch (error) {
    run.failHandler(error);
    return;
  }
  if (outcome && typeof (outcome as Promise<unknown>).then === 'function') {
    run.runningHandlers += 1;
    (outcome as Promise<unknown>)
      .then(undefined, (error: unknown) => run.failHandler(error))
      .finally(() => {
        run.runningHandlers -= 1;
      });
  }
}

/**
 * True when no signal or update handler is still running. Wait for it before the workflow returns
 * or continues as new, so that no handler's work is cut short.
 *
 * @example
 * await condition(allHandlersFinished);
 */
export function allHandlersFinished(): boolean {
  return currentRun('allHandlersFinished').runningHandlers === 0;
}
