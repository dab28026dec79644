import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sampleHistory } from '../../test/support/history-samples.js';
import {
  dropSchemas,
  postgresAvailable,
  randomSchema,
  TEST_DATABASE_URL,
} from '../../test/support/postgres-db.js';
import { PostgresHistoryStore } from './postgres-store.js';

const schemas: string[] = [];
const stores: PostgresHistoryStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
afterAll(() => dropSchemas(schemas));

async function twoServers() {
  const schema = randomSchema();
  schemas.push(schema);
  const open = async (migrate: boolean) => {
    const store = await PostgresHistoryStore.open({ url: TEST_DATABASE_URL, schema, migrate, poolSize: 3 });
    stores.push(store);
    return store;
  };
  const a = await open(true);
  const b = await open(false);
  const key = { workflowId: 'order-1', runId: 'run-1' };
  const lease = await a.createRun(key, sampleHistory().slice(0, 1), { owner: 'a', leaseMs: 10_000 });
  return { a, b, key, lease };
}

describe.runIf(postgresAvailable)('PostgresHistoryStore activity tasks', () => {
  it('offers an attempt once, hands it to one claimer, and moves its outcome to the run inbox in one step', async () => {
    const { a, b, key } = await twoServers();
    await a.enqueueActivityTask(key, { seq: 1, attempt: 1, task: { n: 1 } });
    await b.enqueueActivityTask(key, { seq: 1, attempt: 1, task: { n: 'again' } }); // a repeat is ignored
    const [first, second] = await Promise.all([
      a.claimActivityTasks('a', { limit: 5, leaseMs: 5000 }),
      b.claimActivityTasks('b', { limit: 5, leaseMs: 5000 }),
    ]);
    const claimed = [...first, ...second];
    expect(claimed).toHaveLength(1);
    expect(claimed[0]).toMatchObject({ key, seq: 1, attempt: 1, task: { n: 1 } });
    const runner = first.length ? 'a' : 'b';
    const other = runner === 'a' ? 'b' : 'a';
    const id = claimed[0]!.id;
    expect(await a.renewActivityTask(id, other, 5000)).toEqual({ held: false, cancelRequested: false });
    expect(await a.renewActivityTask(id, runner, 5000)).toEqual({ held: true, cancelRequested: false });
    expect(await a.finishActivityTask(id, other, { kind: 'cancel' })).toBe(false);
    const outcome = {
      kind: 'activity-outcome' as const,
      input: { type: 'ActivityTaskCompleted' as const, seq: 1, attempt: 1, result: 'ok' },
    };
    expect(await a.finishActivityTask(id, runner, outcome)).toBe(true);
    expect((await a.readInbox(key)).map((m) => m.message)).toEqual([outcome]);
    expect(await b.claimActivityTasks('b', { limit: 5, leaseMs: 5000 })).toEqual([]);
  });

  it('gives an attempt whose runner stopped renewing to another server', async () => {
    const { a, b, key } = await twoServers();
    await a.enqueueActivityTask(key, { seq: 2, attempt: 1, task: {} });
    const [task] = await a.claimActivityTasks('a', { limit: 1, leaseMs: 200 });
    expect(await b.claimActivityTasks('b', { limit: 1, leaseMs: 200 })).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const taken = await b.claimActivityTasks('b', { limit: 1, leaseMs: 5000 });
    expect(taken.map((t) => t.id)).toEqual([task!.id]);
    expect((await a.renewActivityTask(task!.id, 'a', 5000)).held).toBe(false);
    expect(taken[0]!.heartbeatDetails).toBeUndefined();
  });

  it("keeps a runner's last heartbeat details for the server that runs the attempt again", async () => {
    const { a, b, key } = await twoServers();
    await a.enqueueActivityTask(key, { seq: 7, attempt: 1, task: { n: 1.5 } });
    const [task] = await a.claimActivityTasks('a', { limit: 1, leaseMs: 200 });
    await a.renewActivityTask(task!.id, 'a', 200, { processed: 40 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [again] = await b.claimActivityTasks('b', { limit: 1, leaseMs: 5000 });
    expect(again).toMatchObject({ id: task!.id, task: { n: 1.5 }, heartbeatDetails: { processed: 40 } });
  });

  it('cancels a waiting attempt by removing it and a running one by telling its runner', async () => {
    const { a, key } = await twoServers();
    await a.enqueueActivityTask(key, { seq: 3, attempt: 1, task: {} });
    expect(await a.cancelActivityTask(key, 3)).toBe('waiting');
    expect(await a.claimActivityTasks('a', { limit: 5, leaseMs: 5000 })).toEqual([]);
    await a.enqueueActivityTask(key, { seq: 4, attempt: 1, task: {} });
    const [task] = await a.claimActivityTasks('a', { limit: 5, leaseMs: 5000 });
    expect(await a.cancelActivityTask(key, 4)).toBe('running');
    expect(await a.renewActivityTask(task!.id, 'a', 5000)).toEqual({ held: true, cancelRequested: true });
    expect(await a.cancelActivityTask(key, 99)).toBe('none');
  });

  it('never starts an attempt of a run that has closed', async () => {
    const { a, key, lease } = await twoServers();
    await a.enqueueActivityTask(key, { seq: 5, attempt: 1, task: {} });
    const closing = sampleHistory().at(-1)!;
    const result = await a.appendAsOwner(lease, [{ ...closing, eventId: 2 }]);
    expect(result).toEqual({ ok: true });
    expect(await a.claimActivityTasks('a', { limit: 5, leaseMs: 5000 })).toEqual([]);
  });
  it('does not offer an attempt again while its outcome waits in the inbox for a new holder', async () => {
    const { a, key } = await twoServers();
    await a.enqueueActivityTask(key, { seq: 6, attempt: 1, task: {} });
    const [task] = await a.claimActivityTasks('a', { limit: 1, leaseMs: 5000 });
    const outcome = {
      kind: 'activity-outcome' as const,
      input: { type: 'ActivityTaskCompleted' as const, seq: 6, attempt: 1, result: 1 },
    };
    expect(await a.finishActivityTask(task!.id, 'a', outcome)).toBe(true);
    await a.enqueueActivityTask(key, { seq: 6, attempt: 1, task: {} }); // a new holder resuming the run
    expect(await a.claimActivityTasks('a', { limit: 5, leaseMs: 5000 })).toEqual([]);
  });
});
