/**
 * Async completion on a store shared by two servers (PostgreSQL): the attempt may run on either
 * server (activity tasks), and the wait for its task token is taken up by the server holding the run.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CompleteAsyncError, Context } from 'wfkit/activity';
import { WorkflowClient } from 'wfkit/client';
import { PostgresHistoryStore } from '../../src/history/postgres-store.js';
import { WorkflowEngine } from '../../src/runtime/engine/index.js';
import { loadWorkflowCode } from '../../src/runtime/workflow-code.js';
import { dropSchemas, postgresAvailable, randomSchema, TEST_DATABASE_URL } from '../support/postgres-db.js';

const project = (path: string) => fileURLToPath(new URL(`./activities-project/${path}`, import.meta.url));
const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

describe.runIf(postgresAvailable)('async completion on a shared PostgreSQL store', () => {
  it('whichever server ran the attempt, client.activity.complete at the holder finishes it', async () => {
    const schema = randomSchema('wfa');
    schemas.push(schema);
    const code = await loadWorkflowCode({
      workflowsPath: project('src/workflows/index.ts'),
      activitiesPath: project('src/activities/index.ts'),
    });
    const tokens: string[] = [];
    const activities = {
      requestApproval: async () => {
        tokens.push(Context.current().info.base64TaskToken);
        throw new CompleteAsyncError();
      },
    };
    const opened: { engine: WorkflowEngine; store: PostgresHistoryStore }[] = [];
    for (const owner of ['a', 'b']) {
      const store = await PostgresHistoryStore.open({
        url: TEST_DATABASE_URL,
        schema,
        migrate: true,
        poolSize: 4,
      });
      const engine = new WorkflowEngine({
        store,
        code,
        activities,
        cluster: { owner, leaseMs: 2000, pollMs: 50 },
      });
      await engine.recover();
      opened.push({ engine, store });
    }
    try {
      const [a, b] = opened as [(typeof opened)[0], (typeof opened)[0]];
      await a.engine.startWorkflow({ workflowType: 'approval', workflowId: 'shared-1', args: ['ada'] });
      await expect.poll(() => tokens.length, { timeout: 10_000 }).toBe(1);
      // The holder records the wait; then it, not the server that ran the attempt, takes the token.
      await expect
        .poll(
          async () =>
            (await a.engine.history({ workflowId: 'shared-1' })).some(
              (e) => e.type === 'ActivityTaskStarted' && e.asyncCompletion === true,
            ),
          { timeout: 10_000 },
        )
        .toBe(true);
      const holder = a.engine.owner === 'a' ? a : b;
      let completed = false;
      for (const server of [holder, holder === a ? b : a]) {
        try {
          await new WorkflowClient(server.engine).activity.complete(tokens[0]!, 'approved on a shared store');
          completed = true;
          break;
        } catch (error) {
          // The server that does not hold the run says so (503); the other one takes it.
          expect((error as Error).message).toMatch(/held by another process|no attempt/);
        }
      }
      expect(completed).toBe(true);
      const outcome = await a.engine.result({ workflowId: 'shared-1', waitTimeoutMs: 10_000 });
      expect(outcome).toEqual({ status: 'COMPLETED', result: 'approved on a shared store' });
      expect(tokens).toHaveLength(1);
    } finally {
      for (const { engine, store } of opened) {
        await engine.shutdown();
        await store.close();
      }
    }
  });
});
