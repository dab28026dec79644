import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  dropSchemas,
  postgresAvailable,
  randomSchema,
  sql,
  TEST_DATABASE_URL,
} from '../../../test/support/postgres-db.js';
import { Context } from '../../activity/context.js';
import type { ActivityLogRecord } from '../../activity/log.js';
import { WfError } from '../../common/errors.js';
import { PostgresHistoryStore } from '../../history/postgres-store.js';
import { VirtualClock } from '../clock.js';
import { loadWorkflowCode } from '../workflow-code.js';
import { type ActivityFunction, type EngineSpan, type EngineTracing, WorkflowEngine } from './index.js';

const fixture = (path: string) =>
  fileURLToPath(new URL(`../../../test/fixtures/engine/${path}`, import.meta.url));
const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

/** Two engines on one PostgreSQL schema, as two `wf serve` processes would be. */
async function cluster(
  activities: Record<string, ActivityFunction>,
  options: { leaseMs?: number; wrap?: (store: PostgresHistoryStore) => PostgresHistoryStore } = {},
) {
  const schema = randomSchema('wfc');
  schemas.push(schema);
  const code = await loadWorkflowCode({
    workflowsPath: fixture('src/workflows/index.ts'),
    activitiesPath: fixture('src/activities/index.ts'),
  });
  const opened: { engine: WorkflowEngine; store: PostgresHistoryStore }[] = [];
  const open = async (
    owner: string,
    extra: {
      maxConcurrentActivities?: number;
      tracing?: EngineTracing;
      clock?: VirtualClock;
      activityLog?: (record: ActivityLogRecord) => void;
    } = {},
  ) => {
    const store = await PostgresHistoryStore.open({
      url: TEST_DATABASE_URL,
      schema,
      migrate: true,
      poolSize: 4,
    });
    const engine = new WorkflowEngine({
      store: options.wrap ? options.wrap(store) : store,
      code,
      activities,
      cluster: { owner, leaseMs: options.leaseMs ?? 2000, pollMs: 50 },
      ...extra,
      clock: extra.clock ?? new VirtualClock(Date.parse('2026-01-01T00:00:00Z')),
    });
    await engine.recover();
    opened.push({ engine, store });
    return { engine, store };
  };
  const closeAll = async () => {
    for (const { engine, store } of opened.splice(0)) {
      await engine.shutdown();
      await store.close();
    }
  };
  return { open, closeAll, schema };
}

describe.runIf(postgresAvailable)('WorkflowEngine on a shared PostgreSQL store', () => {
  it('answers for a run held by the other process: signal, query, describe, update-free result', async () => {
    const { open, closeAll } = await cluster({ step: async (name: string) => `did ${name}` });
    try {
      const a = await open('a');
      const b = await open('b');
      await a.engine.startWorkflow({ workflowType: 'waiter', workflowId: 'w1' });
      // b holds nothing: the signal goes to the run's inbox and a, its holder, records it.
      await b.engine.signal({ workflowId: 'w1' }, 'go', ['x']);
      await expect
        .poll(() => b.engine.query({ workflowId: 'w1' }, 'state', []), { timeout: 5000 })
        .toEqual(['did x']);
      const description = await b.engine.describe({ workflowId: 'w1' });
      expect(description.status).toBe('RUNNING');
      expect(description.pendingTimers).toHaveLength(1);
      expect(a.engine.owner).toBe('a');
    } finally {
      await closeAll();
    }
  });

  it('50 concurrent starts of one workflow ID through two engines make one run', async () => {
    const { open, closeAll } = await cluster({ step: async (name: string) => `did ${name}` });
    try {
      const a = await open('a');
      const b = await open('b');
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          (i % 2 ? a : b).engine.startWorkflow({ workflowType: 'sleepy', workflowId: 'once' }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(refused.every((r) => /already/i.test(String(r.reason)))).toBe(true);
      expect((await a.engine.list({ workflowId: 'once' })).runs).toHaveLength(1);
      // With USE_EXISTING and signal-with-start, the race is not an error: every caller gets the one run.
      const shared = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).engine.startWorkflow({
            workflowType: 'sleepy',
            workflowId: 'shared',
            workflowIdConflictPolicy: 'USE_EXISTING',
          }),
        ),
      );
      expect(new Set(shared.map((r) => r.runId)).size).toBe(1);
      const signalled = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).engine.startWorkflow({
            workflowType: 'waiter',
            workflowId: 'sws',
            signal: { name: 'go', args: [`s${i}`] },
          }),
        ),
      );
      expect(new Set(signalled.map((r) => r.runId)).size).toBe(1);
      const signals = async () =>
        (await a.engine.history({ workflowId: 'sws' })).filter((e) => e.type === 'WorkflowSignaled').length;
      await expect.poll(signals, { timeout: 5000 }).toBe(20);
    } finally {
      await closeAll();
    }
  });

  it('a holder that lost its lease drops the run; the new holder finishes it, and the attempt in flight is recorded once', async () => {
    const calls: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const step = async (name: string) => {
      calls.push(name);
      if (name === '1') await gate; // in flight while the run changes hands
      return `did ${name}`;
    };
    const { open, closeAll, schema } = await cluster({ step }, { leaseMs: 600 });
    try {
      const a = await open('a');
      await a.engine.startWorkflow({ workflowType: 'steps', workflowId: 'moving', args: [3] });
      await expect.poll(() => calls.length, { timeout: 5000 }).toBe(2);
      // As if "a" had been paused past its lease and another process had taken the run meanwhile
      // (and were gone in turn): "a" must drop it, and whoever claims it next finishes it.
      await sql(
        `UPDATE "${schema}".runs SET owner = 'someone', epoch = epoch + 1, lease_until = now() + interval '1 second' WHERE workflow_id = 'moving'`,
      );
      const b = await open('b');
      const outcome = b.engine.result({ workflowId: 'moving' });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      release(); // the attempt's runner is alive: its outcome goes to the run's inbox, whoever holds it
      expect(await outcome).toEqual({ status: 'COMPLETED', result: 3 });
      expect(calls).toEqual(['0', '1', '2']);
      const history = await b.engine.history({ workflowId: 'moving' });
      expect(history.filter((e) => e.type === 'ActivityTaskCompleted')).toHaveLength(3);
      expect(history.map((e) => e.eventId)).toEqual(history.map((_, i) => i + 1));
    } finally {
      release();
      await closeAll();
    }
  });

  it("a run taken over after a lost lease stays in its caller's trace: whoever finishes it ends the spans begun before, none twice", async () => {
    const caller = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const step = async (name: string) => {
      if (name === '1') await gate;
      return `did ${name}`;
    };
    const { open, closeAll, schema } = await cluster({ step }, { leaseMs: 600 });
    const spansA: EngineSpan[] = [];
    const spansB: EngineSpan[] = [];
    try {
      const a = await open('a', { tracing: { span: (span) => spansA.push(span) } });
      await a.engine.startWorkflow({
        workflowType: 'steps',
        workflowId: 'traced-moving',
        args: [3],
        header: { traceparent: `00-${caller.traceId}-${caller.spanId}-01` },
      });
      await expect.poll(() => spansA.length, { timeout: 5000 }).toBe(2);
      await sql(
        `UPDATE "${schema}".runs SET owner = 'someone', epoch = epoch + 1, lease_until = now() + interval '1 second' WHERE workflow_id = 'traced-moving'`,
      );
      const b = await open('b', { tracing: { span: (span) => spansB.push(span) } });
      const outcome = b.engine.result({ workflowId: 'traced-moving' });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      release();
      expect(await outcome).toEqual({ status: 'COMPLETED', result: 3 });

      // Whoever claimed the run after the takeover (a again, or b) rebuilt it from the history.
      // Its spans are emitted once the last append is durable, which the other engine's result
      // waiter may learn of first: wait for them.
      await expect.poll(() => spansA.length + spansB.length, { timeout: 5000 }).toBeGreaterThanOrEqual(7);
      const all = [...spansA, ...spansB];
      expect(all.map((s) => s.name).sort()).toEqual([
        'RunActivity:step',
        'RunActivity:step',
        'RunActivity:step',
        'RunWorkflow:steps',
        'StartActivity:step',
        'StartActivity:step',
        'StartActivity:step',
      ]);
      expect(new Set(all.map((s) => s.spanId)).size).toBe(all.length);
      expect(new Set(all.map((s) => s.traceId))).toEqual(new Set([caller.traceId]));
      const history = await b.engine.history({ workflowId: 'traced-moving' });
      const run = all.find((s) => s.name === 'RunWorkflow:steps') as EngineSpan;
      expect(run.parentSpanId).toBe(caller.spanId);
      expect(run.startTime.toISOString()).toBe(history[0]?.eventTime);
      // The attempt in flight while the run changed hands: one span, from its recorded start.
      const started = history.filter((e) => e.type === 'ActivityTaskStarted').map((e) => e.eventTime);
      expect(
        all
          .filter((s) => s.name === 'RunActivity:step')
          .map((s) => s.startTime.toISOString())
          .sort(),
      ).toEqual(started.sort());
      for (const span of all.filter((s) => s.name === 'StartActivity:step')) {
        expect(span.parentSpanId).toBe(run.spanId);
      }
    } finally {
      release();
      await closeAll();
    }
  });

  it("an attempt run for the holder by another server: its span starts when it began there, its log lines name the run's trace", async () => {
    const caller = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
    // One clock for both servers, as one machine's.
    const clock = new VirtualClock(Date.parse('2026-01-01T00:00:00Z'));
    const { open, closeAll } = await cluster({
      step: async (name: string) => {
        Context.current().log.info('stepping', { name });
        clock.advanceTo(clock.now() + 1000); // the attempt takes a second
        return `did ${name}`;
      },
    });
    const spans: EngineSpan[] = [];
    const logs: unknown[] = [];
    try {
      const a = await open('a', {
        clock,
        tracing: { span: () => undefined },
        activityLog: (record) => logs.push(a.engine.traceContext(record.activity.runId, record.activity)),
      });
      const b = await open('b', {
        maxConcurrentActivities: 0,
        clock,
        tracing: { span: (span) => spans.push(span) },
      });
      await b.engine.startWorkflow({
        workflowType: 'steps',
        workflowId: 'traced-remote',
        args: [2],
        header: { traceparent: `00-${caller.traceId}-${caller.spanId}-01` },
      });
      expect(await b.engine.result({ workflowId: 'traced-remote' })).toEqual({
        status: 'COMPLETED',
        result: 2,
      });
      const attempts = spans.filter((s) => s.name === 'RunActivity:step');
      expect(attempts).toHaveLength(2);
      for (const attempt of attempts) {
        expect(attempt.traceId).toBe(caller.traceId);
        expect(attempt.endTime.getTime() - attempt.startTime.getTime()).toBe(1000);
      }
      // a does not hold the run; the log lines of the attempts it ran still name the run's trace.
      expect(logs).toEqual(attempts.map((s) => ({ traceId: caller.traceId, spanId: s.spanId })));
    } finally {
      await closeAll();
    }
  });

  it("runs a workflow's activities on whichever server has room: one that runs no activities still completes runs", async () => {
    const ran: string[] = [];
    const { open, closeAll } = await cluster({
      step: async (name: string) => {
        ran.push(name);
        return `did ${name}`;
      },
    });
    try {
      const a = await open('a');
      // b's slots are full (none at all): every attempt runs on a, whoever holds the run.
      const b = await open('b', { maxConcurrentActivities: 0 });
      await b.engine.startWorkflow({ workflowType: 'steps', workflowId: 'remote', args: [3] });
      expect(await a.engine.result({ workflowId: 'remote' })).toEqual({ status: 'COMPLETED', result: 3 });
      expect(ran).toEqual(['0', '1', '2']);
    } finally {
      await closeAll();
    }
  });

  it('a store failure mid-append gives the run up; it is rebuilt from the store and goes on', async () => {
    let failNext = false;
    const wrap = (store: PostgresHistoryStore) =>
      new Proxy(store, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver);
          if (property !== 'appendAsOwner') return typeof value === 'function' ? value.bind(target) : value;
          return async (...args: Parameters<PostgresHistoryStore['appendAsOwner']>) => {
            if (failNext) {
              failNext = false;
              throw new WfError('UNAVAILABLE', 'lost the connection to PostgreSQL (test)');
            }
            return target.appendAsOwner(...args);
          };
        },
      });
    const { open, closeAll } = await cluster({ step: async (name: string) => `did ${name}` }, { wrap });
    try {
      const a = await open('a');
      await a.engine.startWorkflow({ workflowType: 'waiter', workflowId: 'flaky' });
      failNext = true;
      await expect(a.engine.signal({ workflowId: 'flaky' }, 'go', ['x'], 'req-1')).rejects.toThrow(
        /may or may not have been recorded/,
      );
      // Sent again with the same request ID, as the error says: recorded once, and the run goes on.
      await expect
        .poll(
          () =>
            a.engine.signal({ workflowId: 'flaky' }, 'go', ['x'], 'req-1').then(
              () => 'sent',
              (error: Error) => error.message,
            ),
          { timeout: 5000 },
        )
        .toBe('sent');
      await expect
        .poll(() => a.engine.query({ workflowId: 'flaky' }, 'state', []), { timeout: 5000 })
        .toEqual(['did x']);
      const description = await a.engine.describe({ workflowId: 'flaky' });
      expect(description.paused).toBeUndefined();
      const history = await a.engine.history({ workflowId: 'flaky' });
      expect(history.filter((e) => e.type === 'WorkflowSignaled')).toHaveLength(1);
    } finally {
      await closeAll();
    }
  });
  it('lists runs a page at a time from the database, newest first, each run once', async () => {
    const { open, closeAll } = await cluster({ step: async (name: string) => `did ${name}` });
    try {
      const a = await open('a');
      for (let i = 0; i < 25; i++)
        await a.engine.startWorkflow({ workflowType: 'sleepy', workflowId: `p-${i}` });
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await a.engine.list({ pageSize: 10, ...(token ? { nextPageToken: token } : {}) });
        expect(page.runs.length).toBeLessThanOrEqual(10);
        seen.push(...page.runs.map((r) => r.workflowId));
        token = page.nextPageToken;
      } while (token);
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `p-${24 - i}`));
      // Search attributes are kept by the database and filter a listing a page at a time.
      await a.engine.startWorkflow({
        workflowType: 'sleepy',
        workflowId: 'tagged',
        searchAttributes: { CustomerId: ['c-9'], Priority: [3] },
      });
      const tagged = await a.engine.list({ pageSize: 5, query: 'CustomerId = "c-9" AND Priority > 2' });
      expect(tagged.runs.map((r) => [r.workflowId, r.searchAttributes])).toEqual([
        ['tagged', { CustomerId: ['c-9'], Priority: [3] }],
      ]);
    } finally {
      await closeAll();
    }
  });
  it('cancels an activity running on another server: its runner aborts it and the run ends cancelled', async () => {
    const { Context } = await import('../../activity/index.js');
    let aborted = false;
    const step = async (name: string) => {
      if (name !== '1') return `did ${name}`;
      const signal = Context.current().cancellationSignal;
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      aborted = true;
      throw signal.reason;
    };
    const { open, closeAll } = await cluster({ step }, { leaseMs: 600 });
    try {
      const runner = await open('runner');
      const holder = await open('holder', { maxConcurrentActivities: 0 });
      await holder.engine.startWorkflow({ workflowType: 'steps', workflowId: 'cancel-me', args: [3] });
      await expect
        .poll(
          async () => (await holder.engine.describe({ workflowId: 'cancel-me' })).pendingActivities.length,
          { timeout: 5000 },
        )
        .toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 300)); // let the runner start step 1
      await holder.engine.cancel({ workflowId: 'cancel-me' });
      expect(await runner.engine.result({ workflowId: 'cancel-me' })).toMatchObject({ status: 'CANCELED' });
      await expect.poll(() => aborted, { timeout: 3000 }).toBe(true);
    } finally {
      await closeAll();
    }
  });
  it('keeps schedules in the database: any server sees them, a fire time starts one run whichever servers fire it', async () => {
    const { open, closeAll } = await cluster({ step: async (name: string) => `did ${name}` });
    try {
      const a = await open('a');
      const b = await open('b');
      await a.engine.createSchedule({
        scheduleId: 'daily',
        spec: { cronExpressions: ['0 0 * * *'] },
        action: { workflowType: 'sleepy', workflowId: 'nightly' },
      });
      expect((await b.engine.listSchedules()).map((s) => s.scheduleId)).toEqual([]); // b loaded at its start
      const range = {
        startAt: '2025-12-30T00:00:00Z',
        endAt: '2025-12-31T00:00:00Z',
        overlap: 'ALLOW_ALL' as const,
      };
      const [fromA, fromB] = await Promise.all([
        a.engine.backfillSchedule('daily', range),
        (async () => {
          const c = await open('c');
          return c.engine.backfillSchedule('daily', range);
        })(),
      ]);
      const outcomes = [...fromA, ...fromB].map((r) => r.outcome).sort();
      expect(outcomes).toEqual(['already-started', 'already-started', 'started', 'started']);
      expect((await a.engine.list({ query: 'TemporalScheduledById = "daily"' })).runs).toHaveLength(2);
    } finally {
      await closeAll();
    }
  });
});
