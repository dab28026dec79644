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

/** Calls a signal's handler, or keeps the signal until a handler is set. */
export function deliverSignal(name: string, args: unknown[]): void {
  const run = currentRun('signal');
  const handler = run.signalHandlers.get(name);
  if (!handler) {
    run.bufferedSignals.push({ name, args });
    return;
  }
  let outcome: unknown;
  try {
    outcome = handler(...args);
  } catch (error) {
    failFromHandler(error);
    return;
  }
  if (outcome && typeof (outcome as Promise<unknown>).then === 'function') {
    run.runningHandlers += 1;
    (outcome as Promise<unknown>).then(undefined, failFromHandler).finally(() => {
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

let failHandler: (error: unknown) => void = () => undefined;

/** Wired by the sandbox API: a signal handler that throws fails the workflow. */
export function onHandlerFailure(fn: (error: unknown) => void): void {
  failHandler = fn;
}

function failFromHandler(error: unknown): void {
  failHandler(error);
}
