import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../common/errors.js';
import { MAX_EVENT_DEPTH, MAX_PAYLOAD_DEPTH } from '../common/json-payload.js';
import { serializeEvent } from './codec.js';
import type { HistoryEvent } from './events.js';
import { FileHistoryStore } from './file-store.js';
import { MemoryHistoryStore } from './memory-store.js';
import type { HistoryStore } from './store.js';
import { T } from './test-helpers.js';

/** Keys that trip naive code: prototype names, the empty key, any UTF-16 (lone surrogates too). */
const key = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', ''),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

const leaf = fc.oneof(
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

/** An object with exactly these own enumerable keys ("__proto__" as a data property, as JSON.parse makes it). */
function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return o;
}

const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map(objectOf),
  ),
})).value;

/** A value nested `depth` levels deep (arrays and objects alternating), around a leaf. */
const deepValue = fc
  .tuple(fc.integer({ min: 1, max: MAX_EVENT_DEPTH + 40 }), leaf, key)
  .map(([depth, inner, k]) => {
    let v: unknown = inner;
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : objectOf([[k, v]]);
    return v;
  });

/** Events carrying `v` in every payload position: args, memo, signal, update, results, failure details. */
function eventsCarrying(workflowId: string, v: unknown): HistoryEvent[] {
  const runId = 'run';
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

const lines = (events: readonly HistoryEvent[]) => events.map(serializeEvent);

describe('append rules: whatever a store acknowledges reads back equal, forever', () => {
  let dir: string;
  let file: FileHistoryStore;
  const memory = new MemoryHistoryStore();
  /** workflowId -> the lines appended, for the re-read after reopening. */
  const acknowledged = new Map<string, string[]>();
  let counter = 0;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wf-append-rules-'));
    file = await FileHistoryStore.open(dir, { indexDelayMs: 60_000 });
  });
  afterAll(async () => {
    await file.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Appends one event at a time (each its own acknowledgement); returns what it read back, or the refusal. */
  async function roundTrip(
    store: HistoryStore,
    v: unknown,
  ): Promise<{ sent: string[]; read: string[] } | Error> {
    const workflowId = `wf-${counter++}`;
    const events = eventsCarrying(workflowId, v);
    try {
      await store.append({ workflowId, runId: 'run' }, events);
    } catch (error) {
      // Refused as a whole: nothing of it was recorded.
      await expect(store.readHistory({ workflowId, runId: 'run' })).rejects.toThrow(/no run/);
      return error as Error;
    }
    const read = await store.readHistory({ workflowId, runId: 'run' });
    if (store === file) acknowledged.set(workflowId, lines(read));
    return { sent: lines(events), read: lines(read) };
  }

  it.each([
    ['memory', () => memory],
    ['file', () => file],
  ] as const)('the %s store round-trips any JSON value byte for byte', async (_name, store) => {
    await fc.assert(
      fc.asyncProperty(jsonValue, async (v) => {
        const outcome = await roundTrip(store(), v);
        if (outcome instanceof Error) throw outcome;
        expect(outcome.read).toEqual(outcome.sent);
      }),
      { numRuns: 150 },
    );
  });

  it.each([
    ['memory', () => memory],
    ['file', () => file],
  ] as const)(
    'the %s store round-trips deep values up to the limit and refuses deeper ones whole',
    async (_name, store) => {
      await fc.assert(
        fc.asyncProperty(deepValue, async (v) => {
          const outcome = await roundTrip(store(), v);
          // The deepest line carries v inside the failure's cause's details: 5 levels of envelope.
          const depthOfV = depthOf(v);
          if (depthOfV + 5 <= MAX_EVENT_DEPTH) {
            if (outcome instanceof Error) throw outcome;
            expect(outcome.read).toEqual(outcome.sent);
          } else {
            expect(outcome).toBeInstanceOf(InvalidArgumentError);
            expect((outcome as Error).message).toMatch(/would not read back \(the line nests \d+ levels/);
          }
        }),
        { numRuns: 40 },
      );
      // Every payload a client or workflow may send (MAX_PAYLOAD_DEPTH) fits in every event.
      expect(MAX_PAYLOAD_DEPTH + 5 + 64).toBeLessThanOrEqual(MAX_EVENT_DEPTH);
    },
  );

  it('reads back the same lines after the file store is closed and opened again', async () => {
    expect(acknowledged.size).toBeGreaterThan(100);
    await file.close();
    file = await FileHistoryStore.open(dir, { indexDelayMs: 60_000 });
    expect(file.openReport().corrupt).toEqual([]);
    for (const [workflowId, sent] of acknowledged) {
      expect(lines(await file.readHistory({ workflowId, runId: 'run' }))).toEqual(sent);
    }
  });

  it('records -0 as 0 and lone surrogates as escapes, in both stores alike (as JSON.stringify does)', async () => {
    const v = objectOf([
      ['__proto__', { negZero: -0, lone: '\ud800', pair: '😀' }],
      ['constructor', { prototype: { polluted: true } }],
    ]);
    const [fromMemory, fromFile] = await Promise.all([roundTrip(memory, v), roundTrip(file, v)]);
    for (const outcome of [fromMemory, fromFile]) {
      if (outcome instanceof Error) throw outcome;
      expect(outcome.read[6]).toBe(
        '{"eventId":7,"eventTime":"2024-05-01T10:00:00.000Z","type":"WorkflowExecutionCompleted","result":{"__proto__":{"negZero":0,"lone":"\\ud800","pair":"😀"},"constructor":{"prototype":{"polluted":true}}}}',
      );
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

function depthOf(v: unknown): number {
  let depth = 0;
  let current = v;
  while (typeof current === 'object' && current !== null) {
    depth++;
    current = Object.values(current)[0];
  }
  return depth;
}
