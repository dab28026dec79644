/**
 * Temporal's client shapes (`client.workflow.*`, update handles and stages, update-with-start,
 * `new WorkflowClient({ connection })`) over the in-process engine of wfkit/testing.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, Connection, InvalidArgumentError, WorkflowClient } from 'wfkit/client';
import { TestWorkflowEnvironment } from 'wfkit/testing';
import { cart, checkout } from './client-project/src/workflows/index.js';
import { startUpdateAccepted, updateWithStart, workflowClientShape } from './client-scenarios.js';

const workflowsPath = fileURLToPath(new URL('./client-project/src/workflows/index.ts', import.meta.url));

let env: TestWorkflowEnvironment | undefined;
afterEach(async () => {
  await env?.teardown();
  env = undefined;
});

async function testEnv(): Promise<TestWorkflowEnvironment> {
  env = await TestWorkflowEnvironment.createTimeSkipping({ workflowsPath });
  return env;
}

describe('Temporal client shapes in-process', () => {
  it('startUpdate returns at ACCEPTED with a handle whose result() waits for completion', async () => {
    await startUpdateAccepted((await testEnv()).client, 'cart-accepted');
  });

  it('executeUpdateWithStart / startUpdateWithStart start or use the open run, then update it', async () => {
    await updateWithStart((await testEnv()).client, 'cart-with-start');
  });

  it('env.client.workflow is the workflow client (signalWithStart, getHandle, list)', async () => {
    await workflowClientShape((await testEnv()).client, 'local');
  });

  it('new Client / new WorkflowClient over a connection; other namespaces are refused', async () => {
    const { client } = await testEnv();
    const connection = Connection.fromService(client.service);
    const viaClient = new Client({ connection, namespace: 'default' });
    expect(viaClient.activity).toBe(viaClient.workflow.activity);
    const handle = await viaClient.workflow.start(cart, { workflowId: 'cart-client', taskQueue: 'q' });
    const workflows = new WorkflowClient({ connection });
    await workflows.getHandle('cart-client').signal(checkout);
    await expect(handle.result()).resolves.toEqual({ items: [], total: 0 });
    expect(() => new Client({ connection, namespace: 'prod' })).toThrow(InvalidArgumentError);
    expect(() => new WorkflowClient({ connection, namespace: 'prod' })).toThrow(/one namespace/);
  });
});
