/**
 * fast-check arbitraries for JSON values that trip up encoders and naive code: "__proto__" and
 * "constructor" keys (as own data properties, the way JSON.parse makes them), lone surrogates, -0,
 * the largest and smallest doubles, and nesting around the limits.
 */
import fc from 'fast-check';
import type { HistoryEvent } from '../../src/history/events.js';
import { T } from './history-samples.js';

/** Keys that trip naive code: prototype names, the empty key, any UTF-16 (lone surrogates too). */
export const awkwardKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', ''),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

export const awkwardLeaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.constantFrom(
    -0,
    0,
    1e308,
    -1.7976931348623157e308,
    5e-324,
    -5e-324,
    Number.MAX_SAFE_INTEGER,
    2 ** 53 + 2,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('\ud800', '\udfff', 'a\udc00b', '😀', '\u202e', '\u0000'),
);

/** An object with exactly these own enumerable keys ("__proto__" a data property, as JSON.parse makes it). */
export function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return o;
}

/** Any JSON value, built from the awkward keys and leaves. */
export const awkwardJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    awkwardLeaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(awkwardKey, tie('value')), { maxLength: 4 }).map(objectOf),
  ),
})).value;

/** A value nested 1 to `maxDepth` levels (arrays and objects alternating) around a leaf, with its depth. */
export function nestedJson(maxDepth: number): fc.Arbitrary<{ value: unknown; depth: number }> {
  return fc.tuple(fc.integer({ min: 1, max: maxDepth }), awkwardLeaf, awkwardKey).map(([depth, inner, k]) => {
    let value: unknown = inner;
    for (let i = 0; i < depth; i++) value = i % 2 ? [value] : objectOf([[k, value]]);
    return { value, depth };
  });
}

/**
 * A whole run carrying `v` in every payload position: args, memo, signal, update args and result,
 * activity result, failure details (under a cause), workflow result. `v` sits at most
 * PAYLOAD_ENVELOPE_DEPTH levels deep in its line.
 */
export function eventsCarrying(workflowId: string, runId: string, v: unknown): HistoryEvent[] {
  return [
    {
      eventId: 1,
      eventTime: T,
      type: 'WorkflowExecutionStarted',
      formatVersion: 1,
      workflowType: 'w',
      workflowId,
      runId,
      args: [v],
      randomnessSeed: 's',
      attempt: 1,
      firstRunId: runId,
      memo: objectOf([['m', v]]),
    },
    { eventId: 2, eventTime: T, type: 'WorkflowSignaled', signalName: 'sig', args: [v, v] },
    { eventId: 3, eventTime: T, type: 'WorkflowUpdateAccepted', updateId: 'u', updateName: 'upd', args: [v] },
    { eventId: 4, eventTime: T, type: 'WorkflowUpdateCompleted', updateId: 'u', result: v },
    { eventId: 5, eventTime: T, type: 'ActivityTaskCompleted', seq: 1, attempt: 1, result: v },
    {
      eventId: 6,
      eventTime: T,
      type: 'ActivityTaskFailed',
      seq: 2,
      attempt: 1,
      failure: {
        message: 'm',
        name: 'ApplicationFailure',
        details: [v],
        cause: { message: 'c', name: 'E', details: [v] },
      },
    },
    { eventId: 7, eventTime: T, type: 'WorkflowExecutionCompleted', result: v },
  ];
}

/** How many levels of its line enclose `v` at its deepest in `eventsCarrying` (the cause's details). */
export const PAYLOAD_ENVELOPE_DEPTH = 4;
