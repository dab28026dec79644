/**
 * The contract every history store passes: one suite of behaviour tests, run against each store by a
 * small test file that says how to open it. `historyStoreContract` covers `HistoryStore`;
 * `sharedStoreContract` covers the calls of a store shared by several processes, given a way to open
 * several independent handles (each its own connection pool, as separate processes would have).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_EVENT_DEPTH, MAX_PAYLOAD_DEPTH } from '../../src/common/json-payload.js';
import { serializeHistoryJsonl } from '../../src/history/codec.js';
import type { HistoryEvent } from '../../src/history/events.js';
import type { RunLease, SharedHistoryStore, StoreChange } from '../../src/history/shared-store.js';
import {
  HistoryConflictError,
  type HistoryStore,
  type RunKey,
  RunNotFoundError,
} from '../../src/history/store.js';
import { sampleHistory, T } from './history-samples.js';
import {
  awkwardJson,
  eventsCarrying,
  nestedJson,
  objectOf,
  PAYLOAD_ENVELOPE_DEPTH,
} from './json-arbitraries.js';

/** `[[...[1]...]]`, `depth` levels deep. */
function nestedValue(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

export interface StoreFactory<S extends HistoryStore> {
  /** A new, empty store (a fresh directory, schema...). Closed by the suite after each test. */
  open(): Promise<S>;
}

export interface SharedStoreFactory<S extends SharedHistoryStore> extends StoreFactory<S> {
  /** Another handle onto the store `open` last made, as another process would open it. */
  openPeer(options?: { poolSize?: number; watch?: 'listen' | 'poll' }): Promise<S>;
}

function started(workflowId: string, runId: string, eventTime = T): HistoryEvent {
  return { ...sampleHistory(workflowId, runId)[0]!, eventTime } as HistoryEvent;
}

function signal(eventId: number, args: unknown[] = [eventId]): HistoryEvent {
  return { eventId, eventTime: T, type: 'WorkflowSignaled', signalName: 's', args };
}

function completed(eventId: number): HistoryEvent {
  return { eventId, eventTime: T, type: 'WorkflowExecutionCompleted', result: 'done' };
}

/** Values that trip up encoders: every one must read back as the same bytes. */
const AWKWARD_VALUES: unknown[] = [
  'héllo ✓ 😀 \u{1F600}',
  'quote " backslash \\ slash / tab \t newline \n cr \r',
  'nul \u0000 bell \u0007 del \u007f',
  'line separators \u2028 \u2029',
  'a lone surrogate \ud800 and another \udfff',
  '',
  ' '.repeat(3),
  'x'.repeat(100_000),
  0.1 + 0.2,
  1e21,
  1e-7,
  -1.5e308,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  5e-324,
  true,
  false,
  null,
  [],
  {},
  [[[[[['deep']]]]]],
  { b: 1, a: 2, '10': 3, '2': 4, 'key with spaces': 5, ключ: 6, '': 7 },
  { constructor: 'not a prototype', toString: 'shadow', hasOwnProperty: 1 },
  { nested: { array: [1, 'two', { three: [null, true] }] } },
];

/** Tests of `HistoryStore`: positions, conflicts, closed runs, listing, byte-exact round trips. */
export function historyStoreContract<S extends HistoryStore>(name: string, factory: StoreFactory<S>): void {
  describe(`${name} passes the HistoryStore contract`, () => {
    const opened: HistoryStore[] = [];
    const open = async () => {
      const store = await factory.open();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    it('reads back what was appended, in batches, and summarises it', async () => {
      const store = await open();
      const key = { workflowId: 'order-1', runId: 'run-1' };
      const events = sampleHistory(key.workflowId, key.runId);
      await store.append(key, events.slice(0, 1));
      await store.append(key, events.slice(1, 4));
      await store.append(key, events.slice(4));
      expect(await store.readHistory(key)).toEqual(events);
      const [summary] = await store.listRuns();
      expect(summary).toMatchObject({
        ...key,
        workflowType: 'orderWorkflow',
        status: 'COMPLETED',
        startTime: T,
        closeTime: T,
        historyLength: 10,
      });
    });

    it('counts the bytes of the event lines it writes (appendedBytes), and none for a refused append', async () => {
      const store = await open();
      const key = { workflowId: 'w', runId: 'r' };
      const json = (events: HistoryEvent[]) =>
        events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0);
      expect(store.appendedBytes).toBe(0);
      const first = [started('w', 'r'), signal(2, ['héllo ✓'])];
      await store.append(key, first);
      const afterFirst = store.appendedBytes;
      // Each line is the event's JSON with a checksum (and a newline where the store keeps one).
      expect(afterFirst).toBeGreaterThan(json(first));
      expect(afterFirst).toBeLessThan(json(first) + 100);
      await expect(store.append(key, [signal(2)])).rejects.toBeInstanceOf(HistoryConflictError);
      expect(store.appendedBytes).toBe(afterFirst);
      await store.append(key, [signal(3)]);
      expect(store.appendedBytes - afterFirst).toBeGreaterThan(json([signal(3)]));
    });

    it('refuses an append at the wrong position with HistoryConflictError, writing nothing', async () => {
      const store = await open();
      const key = { workflowId: 'w', runId: 'r' };
      await store.append(key, [started('w', 'r'), signal(2)]);
      const stale = store.append(key, [signal(2)]);
      await expect(stale).rejects.toBeInstanceOf(HistoryConflictError);
      await expect(stale).rejects.toMatchObject({ expectedEventId: 2, actualNextEventId: 3 });
      await expect(store.append(key, [signal(4)])).rejects.toBeInstanceOf(HistoryConflictError);
      await expect(store.append(key, [signal(3), signal(5)])).rejects.toBeInstanceOf(HistoryConflictError);
      await expect(store.append({ workflowId: 'w', runId: 'new' }, [signal(2)])).rejects.toBeInstanceOf(
        HistoryConflictError,
      );
      expect((await store.readHistory(key)).map((e) => e.eventId)).toEqual([1, 2]);
      await store.append(key, [signal(3)]);
      expect((await store.readHistory(key)).length).toBe(3);
    });

    it('lets one of two appends racing for the same position win; the other conflicts', async () => {
      const store = await open();
      const key = { workflowId: 'race', runId: 'r' };
      await store.append(key, [started('race', 'r')]);
      const results = await Promise.allSettled([
        store.append(key, [signal(2, ['a'])]),
        store.append(key, [signal(2, ['b'])]),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(HistoryConflictError);
      expect(await store.readHistory(key)).toHaveLength(2);
    });

    it('starts a run only with its own WorkflowExecutionStarted', async () => {
      const store = await open();
      await expect(store.append({ workflowId: 'w', runId: 'r' }, [{ ...signal(1) }])).rejects.toThrow(
        /WorkflowExecutionStarted/,
      );
      await expect(
        store.append({ workflowId: 'w', runId: 'r' }, [started('w', 'other-run')]),
      ).rejects.toThrow(/other-run/);
      await expect(store.readHistory({ workflowId: 'w', runId: 'r' })).rejects.toBeInstanceOf(
        RunNotFoundError,
      );
    });

    it('refuses appends to a closed run', async () => {
      const store = await open();
      const key = { workflowId: 'w', runId: 'r' };
      await store.append(key, [started('w', 'r'), completed(2)]);
      await expect(store.append(key, [signal(3)])).rejects.toThrow(/closed/);
      expect(await store.readHistory(key)).toHaveLength(2);
      expect((await store.latestRun('w'))?.status).toBe('COMPLETED');
    });

    it('refuses a malformed event', async () => {
      const store = await open();
      const key = { workflowId: 'w', runId: 'r' };
      await store.append(key, [started('w', 'r')]);
      const bad = { eventId: 2, eventTime: T, type: 'WorkflowSignaled', args: [] } as unknown as HistoryEvent;
      await expect(store.append(key, [bad])).rejects.toThrow(/signalName/);
      expect(await store.readHistory(key)).toHaveLength(1);
    });

    it('throws RunNotFoundError for a run it does not hold', async () => {
      const store = await open();
      await expect(store.readHistory({ workflowId: 'nope', runId: 'nope' })).rejects.toBeInstanceOf(
        RunNotFoundError,
      );
      expect(await store.latestRun('nope')).toBeUndefined();
    });

    it('lists runs newest start first (creation order breaks ties) and filters them', async () => {
      const store = await open();
      await store.append({ workflowId: 'a', runId: 'a1' }, [started('a', 'a1', '2024-05-01T10:00:00.000Z')]);
      await store.append({ workflowId: 'b', runId: 'b1' }, [
        { ...started('b', 'b1', '2024-05-01T12:00:00.000Z'), workflowType: 'other' } as HistoryEvent,
        completed(2),
      ]);
      await store.append({ workflowId: 'a', runId: 'a0' }, [
        started('a', 'a0', '2024-05-01T09:00:00.000Z'),
        completed(2),
      ]);
      await store.append({ workflowId: 'c', runId: 'c1' }, [started('c', 'c1', '2024-05-01T10:00:00.000Z')]);
      const ids = (runs: { runId: string }[]) => runs.map((r) => r.runId);
      expect(ids(await store.listRuns())).toEqual(['b1', 'c1', 'a1', 'a0']);
      expect(ids(await store.listRuns({ status: 'RUNNING' }))).toEqual(['c1', 'a1']);
      expect(ids(await store.listRuns({ status: 'COMPLETED' }))).toEqual(['b1', 'a0']);
      expect(ids(await store.listRuns({ workflowType: 'other' }))).toEqual(['b1']);
      expect(ids(await store.listRuns({ workflowId: 'a' }))).toEqual(['a1', 'a0']);
      expect(ids(await store.listRuns({ workflowId: 'a', status: 'COMPLETED' }))).toEqual(['a0']);
      expect(ids(await store.listRuns({ workflowId: 'b', status: 'RUNNING' }))).toEqual([]);
      expect((await store.latestRun('a'))?.runId).toBe('a1');
      expect(await store.latestRun('b')).toMatchObject({
        runId: 'b1',
        status: 'COMPLETED',
        historyLength: 2,
      });
    });

    it('reads any JSON value back byte for byte, in every payload position (property)', async () => {
      const store = await open();
      let n = 0;
      await fc.assert(
        fc.asyncProperty(awkwardJson, async (v) => {
          const key = { workflowId: `any-${n++}`, runId: 'r' };
          const events = eventsCarrying(key.workflowId, key.runId, v);
          await store.append(key, events);
          expect(serializeHistoryJsonl(await store.readHistory(key))).toBe(serializeHistoryJsonl(events));
        }),
        { numRuns: 60 },
      );
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it(`keeps values nested up to the line limit (${MAX_EVENT_DEPTH}) and refuses deeper ones whole (property)`, async () => {
      const store = await open();
      let n = 0;
      await fc.assert(
        fc.asyncProperty(nestedJson(MAX_EVENT_DEPTH + 20), async ({ value, depth }) => {
          const key = { workflowId: `deep-${n++}`, runId: 'r' };
          const events = eventsCarrying(key.workflowId, key.runId, value);
          if (depth + PAYLOAD_ENVELOPE_DEPTH <= MAX_EVENT_DEPTH) {
            await store.append(key, events);
            expect(serializeHistoryJsonl(await store.readHistory(key))).toBe(serializeHistoryJsonl(events));
          } else {
            await expect(store.append(key, events)).rejects.toThrow(
              /would not read back \(the line nests \d+ levels of arrays and objects deep: the most is 512\)/,
            );
            await expect(store.readHistory(key)).rejects.toBeInstanceOf(RunNotFoundError);
          }
        }),
        {
          numRuns: 30,
          examples: [
            [
              {
                value: nestedValue(MAX_EVENT_DEPTH - PAYLOAD_ENVELOPE_DEPTH),
                depth: MAX_EVENT_DEPTH - PAYLOAD_ENVELOPE_DEPTH,
              },
            ],
            [
              {
                value: nestedValue(MAX_EVENT_DEPTH - PAYLOAD_ENVELOPE_DEPTH + 1),
                depth: MAX_EVENT_DEPTH - PAYLOAD_ENVELOPE_DEPTH + 1,
              },
            ],
          ],
        },
      );
      // Every payload a client or workflow may send fits in every event, even under 64 failure causes.
      expect(MAX_PAYLOAD_DEPTH + PAYLOAD_ENVELOPE_DEPTH + 64).toBeLessThanOrEqual(MAX_EVENT_DEPTH);
    });

    it('records -0 as 0 and lone surrogates as escapes (what JSON.stringify writes), "__proto__" keys as data', async () => {
      const store = await open();
      const key = { workflowId: 'minus-zero', runId: 'r' };
      const v = objectOf([
        ['__proto__', { negZero: -0, lone: '\ud800', pair: '😀' }],
        ['constructor', { prototype: { polluted: true } }],
      ]);
      await store.append(key, eventsCarrying(key.workflowId, key.runId, v));
      const read = await store.readHistory(key);
      expect(serializeHistoryJsonl(read.slice(-1))).toBe(
        '{"eventId":7,"eventTime":"2024-05-01T10:00:00.000Z","type":"WorkflowExecutionCompleted","result":{"__proto__":{"negZero":0,"lone":"\\ud800","pair":"😀"},"constructor":{"prototype":{"polluted":true}}}}\n',
      );
      const result = (read.at(-1) as { result: Record<string, unknown> }).result;
      expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
      expect(Object.hasOwn(result, '__proto__')).toBe(true);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('reads awkward JSON values back byte for byte, and exports the same JSON Lines', async () => {
      const store = await open();
      const key = { workflowId: 'wf/with/../slashes and ✓ 😀 \\ backslash', runId: 'run "quoted"' };
      const events: HistoryEvent[] = [
        {
          ...started(key.workflowId, key.runId),
          args: AWKWARD_VALUES,
          memo: { awkward: AWKWARD_VALUES },
        } as HistoryEvent,
        ...AWKWARD_VALUES.map((value, i) => signal(i + 2, [value])),
        {
          eventId: AWKWARD_VALUES.length + 2,
          eventTime: T,
          type: 'WorkflowExecutionCompleted',
          result: AWKWARD_VALUES,
        },
      ];
      await store.append(key, events.slice(0, 5));
      await store.append(key, events.slice(5));
      const back = await store.readHistory(key);
      expect(serializeHistoryJsonl(back)).toBe(serializeHistoryJsonl(events));
      expect(back).toEqual(JSON.parse(JSON.stringify(events)));
      expect((await store.latestRun(key.workflowId))?.runId).toBe(key.runId);
    });
  });
}

/** Waits (briefly, polling) until `check` holds; for changes that arrive asynchronously. */
async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sameKey = (a: RunKey, b: RunKey) => a.workflowId === b.workflowId && a.runId === b.runId;

/** Tests of `SharedHistoryStore`: atomic starts, leases and fencing, claims, inbox, wake-ups, watch, pages. */
export function sharedStoreContract<S extends SharedHistoryStore>(
  name: string,
  factory: SharedStoreFactory<S>,
): void {
  describe(`${name} passes the SharedHistoryStore contract`, () => {
    const opened: SharedHistoryStore[] = [];
    const open = async () => {
      const store = await factory.open();
      opened.push(store);
      return store;
    };
    const peer = async (options?: Parameters<SharedStoreFactory<S>['openPeer']>[0]) => {
      const store = await factory.openPeer(options);
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });
    const LEASE = 60_000;

    async function expiredLease(store: SharedHistoryStore, key: RunKey, owner: string): Promise<RunLease> {
      const lease = await store.createRun(key, [started(key.workflowId, key.runId)], { owner, leaseMs: 1 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      return lease;
    }

    it('creates a run with a lease of epoch 1', async () => {
      const store = await open();
      const key = { workflowId: 'w', runId: 'r' };
      const before = Date.now();
      const lease = await store.createRun(key, [started('w', 'r')], { owner: 'A', leaseMs: LEASE });
      expect(lease).toMatchObject({ key, owner: 'A', epoch: 1 });
      expect(lease.expiresAt).toBeGreaterThan(before + LEASE / 2);
      expect(await store.readHistory(key)).toEqual([started('w', 'r')]);
      expect((await store.latestRun('w'))?.status).toBe('RUNNING');
      await expect(
        store.createRun(key, [started('w', 'r')], { owner: 'A', leaseMs: LEASE }),
      ).rejects.toThrow();
    });

    it('makes exactly one run of 50 concurrent starts of one workflow ID from separate pools', async () => {
      await open();
      const stores = await Promise.all(Array.from({ length: 10 }, () => peer({ poolSize: 5 })));
      const attempts = Array.from({ length: 50 }, (_, i) =>
        stores[i % stores.length]!.createRun(
          { workflowId: 'one', runId: `run-${i}` },
          [started('one', `run-${i}`)],
          { owner: `P${i}`, leaseMs: LEASE },
        ),
      );
      const results = await Promise.allSettled(attempts);
      const won = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<RunLease>[];
      expect(won).toHaveLength(1);
      const winner = won[0]!.value.key.runId;
      for (const r of results) {
        if (r.status === 'rejected') {
          expect(r.reason).toMatchObject({ code: 'ALREADY_STARTED', runId: winner });
        }
      }
      expect((await stores[0]!.listRuns({ workflowId: 'one' })).map((r) => r.runId)).toEqual([winner]);
    });

    it('allows a new run of a workflow ID once the open one has closed', async () => {
      const store = await open();
      const lease = await store.createRun({ workflowId: 'w', runId: 'r1' }, [started('w', 'r1')], {
        owner: 'A',
        leaseMs: LEASE,
      });
      await expect(
        store.createRun({ workflowId: 'w', runId: 'r2' }, [started('w', 'r2')], {
          owner: 'A',
          leaseMs: LEASE,
        }),
      ).rejects.toMatchObject({ code: 'ALREADY_STARTED', runId: 'r1' });
      expect(await store.appendAsOwner(lease, [completed(2)])).toEqual({ ok: true });
      const second = await store.createRun({ workflowId: 'w', runId: 'r2' }, [started('w', 'r2')], {
        owner: 'A',
        leaseMs: LEASE,
      });
      expect(second.epoch).toBe(1);
      expect((await store.latestRun('w'))?.runId).toBe('r2');
    });

    it('fences a holder whose lease expired and was taken: its append is refused and nothing is written', async () => {
      const a = await open();
      const b = await peer();
      const key = { workflowId: 'fenced', runId: 'r' };
      const leaseA = await expiredLease(a, key, 'A');
      const bytesOfA = a.appendedBytes;
      const claimed = await b.claimDueRuns('B', { limit: 10, leaseMs: LEASE });
      expect(claimed).toHaveLength(1);
      const leaseB = claimed[0]!;
      expect(leaseB).toMatchObject({ key, owner: 'B', epoch: 2 });
      expect(await a.appendAsOwner(leaseA, [signal(2)])).toEqual({
        ok: false,
        reason: 'fenced',
        holder: 'B',
      });
      expect(a.appendedBytes).toBe(bytesOfA);
      expect(await a.renewLeases('A', [leaseA], LEASE)).toEqual([]);
      await a.releaseRun(leaseA);
      expect(await b.readHistory(key)).toHaveLength(1);
      expect(b.appendedBytes).toBe(0);
      expect(await b.appendAsOwner(leaseB, [signal(2)])).toEqual({ ok: true });
      expect(b.appendedBytes).toBeGreaterThan(Buffer.byteLength(JSON.stringify(signal(2))));
      expect(await b.readHistory(key)).toHaveLength(2);
    });

    it('lets a holder whose lease expired untaken still append (its epoch is still the run’s)', async () => {
      const store = await open();
      const key = { workflowId: 'late', runId: 'r' };
      const lease = await expiredLease(store, key, 'A');
      expect(await store.appendAsOwner(lease, [signal(2)])).toEqual({ ok: true });
    });

    it('reports a conflict for a stale position under a valid lease, writing nothing', async () => {
      const store = await open();
      const key = { workflowId: 'w', runId: 'r' };
      const lease = await store.createRun(key, [started('w', 'r')], { owner: 'A', leaseMs: LEASE });
      expect(store.appendedBytes).toBeGreaterThan(Buffer.byteLength(JSON.stringify(started('w', 'r'))));
      expect(await store.appendAsOwner(lease, [signal(2)])).toEqual({ ok: true });
      const bytes = store.appendedBytes;
      expect(await store.appendAsOwner(lease, [signal(2)])).toEqual({
        ok: false,
        reason: 'conflict',
        nextEventId: 3,
      });
      expect(store.appendedBytes).toBe(bytes);
      expect(await store.readHistory(key)).toHaveLength(2);
    });

    it('never hands one run to two claimers (SKIP LOCKED), and hands out every due run', async () => {
      const a = await open();
      const key = (i: number) => ({ workflowId: `due-${i}`, runId: 'r' });
      for (let i = 0; i < 40; i++) {
        const lease = await a.createRun(key(i), [started(`due-${i}`, 'r')], { owner: 'A', leaseMs: LEASE });
        await a.releaseRun(lease, { wakeAt: Date.now() - 1000 });
      }
      const claimers = await Promise.all(Array.from({ length: 4 }, () => peer({ poolSize: 2 })));
      const claimed: RunLease[] = [];
      await Promise.all(
        claimers.map(async (store, n) => {
          for (;;) {
            const got = await store.claimDueRuns(`C${n}`, { limit: 3, leaseMs: LEASE });
            if (got.length === 0) return;
            claimed.push(...got);
          }
        }),
      );
      const names = claimed.map((l) => l.key.workflowId).sort();
      expect(new Set(names).size).toBe(names.length);
      expect(names).toHaveLength(40);
      expect(claimed.every((l) => l.epoch === 2)).toBe(true);
      expect(await a.claimDueRuns('late', { limit: 100, leaseMs: LEASE })).toEqual([]);
    });

    it('consumes inbox messages exactly once, with the append that handles them', async () => {
      const a = await open();
      const b = await peer();
      const key = { workflowId: 'inbox', runId: 'r' };
      const lease = await a.createRun(key, [started('inbox', 'r')], { owner: 'A', leaseMs: LEASE });
      await b.deliver(key, { kind: 'signal', signalName: 'first', args: [1] });
      await b.deliver(key, { kind: 'signal', signalName: 'second', args: [{ two: 2 }], requestId: 'q' });
      const inbox = await a.readInbox(key);
      expect(inbox.map((m) => m.message)).toEqual([
        { kind: 'signal', signalName: 'first', args: [1] },
        { kind: 'signal', signalName: 'second', args: [{ two: 2 }], requestId: 'q' },
      ]);
      expect(inbox[0]!.id).toBeLessThan(inbox[1]!.id);
      // A conflicting append consumes nothing.
      expect(await a.appendAsOwner(lease, [signal(5)], { consumed: [inbox[0]!.id] })).toMatchObject({
        reason: 'conflict',
      });
      expect(await a.readInbox(key)).toHaveLength(2);
      expect(await a.appendAsOwner(lease, [signal(2)], { consumed: [inbox[0]!.id] })).toEqual({ ok: true });
      expect((await a.readInbox(key)).map((m) => m.id)).toEqual([inbox[1]!.id]);
      // Consuming it again is refused, and the append with it is not written.
      await expect(a.appendAsOwner(lease, [signal(3)], { consumed: [inbox[0]!.id] })).rejects.toThrow();
      expect(await a.readHistory(key)).toHaveLength(2);
      // A fenced holder consumes nothing either.
      await a.releaseRun(lease);
      const leaseB = await b.claimRun(key, 'B', LEASE);
      expect(leaseB?.epoch).toBe(2);
      expect(await a.appendAsOwner(lease, [signal(3)], { consumed: [inbox[1]!.id] })).toMatchObject({
        reason: 'fenced',
      });
      expect(await b.readInbox(key)).toHaveLength(1);
      expect(await b.appendAsOwner(leaseB!, [signal(3)], { consumed: [inbox[1]!.id] })).toEqual({ ok: true });
      expect(await b.readInbox(key)).toEqual([]);
    });

    it('refuses messages for closed or unknown runs', async () => {
      const store = await open();
      const key = { workflowId: 'closed', runId: 'r' };
      const lease = await store.createRun(key, [started('closed', 'r')], { owner: 'A', leaseMs: LEASE });
      await store.appendAsOwner(lease, [completed(2)]);
      await expect(store.deliver(key, { kind: 'cancel' })).rejects.toMatchObject({ code: 'NOT_RUNNING' });
      await expect(store.deliver({ workflowId: 'x', runId: 'y' }, { kind: 'cancel' })).rejects.toBeInstanceOf(
        RunNotFoundError,
      );
      expect(await store.claimRun(key, 'B', LEASE)).toBeUndefined();
      await expect(store.claimRun({ workflowId: 'x', runId: 'y' }, 'B', LEASE)).rejects.toBeInstanceOf(
        RunNotFoundError,
      );
    });

    it('claims a released run when its wake-up time comes, or as soon as a message arrives', async () => {
      const a = await open();
      const key = { workflowId: 'sleeper', runId: 'r' };
      const lease = await a.createRun(key, [started('sleeper', 'r')], { owner: 'A', leaseMs: LEASE });
      expect(await a.appendAsOwner(lease, [signal(2)], { wakeAt: Date.now() + 3_600_000 })).toEqual({
        ok: true,
      });
      await a.releaseRun(lease);
      expect(await a.claimDueRuns('B', { limit: 10, leaseMs: LEASE })).toEqual([]);
      await a.deliver(key, { kind: 'signal', signalName: 'wake', args: [] });
      const [claimed] = await a.claimDueRuns('B', { limit: 10, leaseMs: LEASE });
      expect(claimed).toMatchObject({ key, owner: 'B', epoch: 2 });
      const inbox = await a.readInbox(key);
      // Handled, and back to sleep until a time already past: due again at once.
      expect(await a.appendAsOwner(claimed!, [signal(3)], { consumed: inbox.map((m) => m.id) })).toEqual({
        ok: true,
      });
      await a.releaseRun(claimed!, { wakeAt: Date.now() + 3_600_000 });
      expect(await a.claimDueRuns('C', { limit: 10, leaseMs: LEASE })).toEqual([]);
      const again = await a.claimRun(key, 'C', LEASE);
      await a.releaseRun(again!, { wakeAt: Date.now() - 1 });
      expect((await a.claimDueRuns('D', { limit: 10, leaseMs: LEASE })).map((l) => l.epoch)).toEqual([4]);
    });

    it('leaves a run with no wake-up and no message alone when released', async () => {
      const a = await open();
      const key = { workflowId: 'idle', runId: 'r' };
      const lease = await a.createRun(key, [started('idle', 'r')], { owner: 'A', leaseMs: LEASE });
      await a.releaseRun(lease, { wakeAt: null });
      expect(await a.claimDueRuns('B', { limit: 10, leaseMs: LEASE })).toEqual([]);
    });

    it('renews the leases still held and claims one run for a request', async () => {
      const a = await open();
      const b = await peer();
      const k1 = { workflowId: 'w1', runId: 'r' };
      const k2 = { workflowId: 'w2', runId: 'r' };
      const l1 = await a.createRun(k1, [started('w1', 'r')], { owner: 'A', leaseMs: 5_000 });
      const l2 = await expiredLease(a, k2, 'A');
      const taken = await b.claimRun(k2, 'B', LEASE);
      expect(taken).toMatchObject({ owner: 'B', epoch: 2 });
      expect(await b.claimRun(k1, 'B', LEASE)).toBeUndefined();
      const renewed = await a.renewLeases('A', [l1, l2], LEASE);
      expect(renewed.map((l) => l.key)).toEqual([k1]);
      expect(renewed[0]!.epoch).toBe(1);
      expect(renewed[0]!.expiresAt).toBeGreaterThan(l1.expiresAt);
      // The holder claiming again keeps its epoch.
      expect((await a.claimRun(k1, 'A', LEASE))?.epoch).toBe(1);
      await a.releaseRun(l1);
      expect((await b.claimRun(k1, 'B', LEASE))?.epoch).toBe(2);
    });

    for (const mode of ['listen', 'poll'] as const) {
      it(`tells watchers of due and closed runs (${mode})`, async () => {
        const a = await open();
        const b = await peer({ watch: mode });
        const seen: StoreChange[] = [];
        const stop = b.watch((change) => seen.push(change));
        try {
          const key = { workflowId: `watched-${mode}`, runId: 'r' };
          const lease = await a.createRun(key, [started(key.workflowId, 'r')], {
            owner: 'A',
            leaseMs: LEASE,
          });
          // Give a LISTEN connection time to be listening before the first change.
          await eventually(async () => {
            await a.deliver(key, { kind: 'signal', signalName: 'ping', args: [] });
            await new Promise((resolve) => setTimeout(resolve, 50));
            return seen.some((c) => c.kind === 'run-due' && sameKey(c.key, key));
          }, 'a run-due change');
          await a.appendAsOwner(lease, [completed(2)], {
            consumed: (await a.readInbox(key)).map((m) => m.id),
          });
          await eventually(
            () => seen.some((c) => c.kind === 'run-closed' && sameKey(c.key, key)),
            'a run-closed change',
          );
        } finally {
          stop();
        }
      });
    }

    for (const mode of ['listen', 'poll'] as const) {
      it(`tells watchers when a released run's wake-up time comes and when a lease runs out (${mode})`, async () => {
        const a = await open();
        const b = await peer({ watch: mode });
        const seen: StoreChange[] = [];
        const stop = b.watch((change) => seen.push(change));
        try {
          const sleeper = { workflowId: `timer-${mode}`, runId: 'r' };
          const lease = await a.createRun(sleeper, [started(sleeper.workflowId, 'r')], {
            owner: 'A',
            leaseMs: LEASE,
          });
          await a.releaseRun(lease, { wakeAt: Date.now() + 300 });
          const crashed = { workflowId: `crashed-${mode}`, runId: 'r' };
          await a.createRun(crashed, [started(crashed.workflowId, 'r')], { owner: 'A', leaseMs: 300 });
          await eventually(
            () => seen.some((c) => c.kind === 'run-due' && sameKey(c.key, sleeper)),
            'run-due when the wake-up time comes',
          );
          await eventually(
            () => seen.some((c) => c.kind === 'run-due' && sameKey(c.key, crashed)),
            'run-due when the lease runs out',
          );
          const claimed = await b.claimDueRuns('B', { limit: 10, leaseMs: LEASE });
          expect(claimed.map((l) => l.key.workflowId).sort()).toEqual([
            crashed.workflowId,
            sleeper.workflowId,
          ]);
        } finally {
          stop();
        }
      });
    }

    it('pages through runs newest first with a cursor, honouring filters', async () => {
      const store = await open();
      for (let i = 0; i < 25; i++) {
        const minute = String(i).padStart(2, '0');
        await store.append({ workflowId: `p-${i}`, runId: `r${i}` }, [
          started(`p-${i}`, `r${i}`, `2024-05-01T10:${minute}:00.000Z`),
          ...(i % 2 === 0 ? [completed(2)] : []),
        ]);
      }
      const all = await store.listRuns();
      const paged: string[] = [];
      let after: string | undefined;
      let pages = 0;
      do {
        const page = await store.listRunsPage({}, { pageSize: 10, ...(after ? { after } : {}) });
        paged.push(...page.runs.map((r) => r.runId));
        after = page.nextCursor;
        pages++;
      } while (after);
      expect(pages).toBe(3);
      expect(paged).toEqual(all.map((r) => r.runId));
      const running = await store.listRunsPage({ status: 'RUNNING' }, { pageSize: 100 });
      expect(running.runs.map((r) => r.runId)).toEqual(
        all.filter((r) => r.status === 'RUNNING').map((r) => r.runId),
      );
      expect(running.nextCursor).toBeUndefined();
      await expect(store.listRunsPage({}, { pageSize: 10, after: 'not-a-cursor' })).rejects.toThrow(/cursor/);
    });
  });
}
