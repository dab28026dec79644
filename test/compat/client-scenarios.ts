/**
 * The Temporal-style client calls of test/compat/client.test.ts (in-process) and
 * client-dev.test.ts (over HTTP): each takes a `Client`-shaped object and checks what it sees.
 */
import { expect } from 'vitest';
import {
  type Client,
  InvalidArgumentError,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
} from 'wfkit/client';
import { addItem, addLater, cart, checkout, items, release } from './client-project/src/workflows/index.js';

type ClientShape = Pick<Client, 'workflow' | 'activity'>;

export async function startUpdateAccepted(client: ClientShape, workflowId: string): Promise<void> {
  const handle = await client.workflow.start(cart, { workflowId, taskQueue: 'carts' });
  const update = await handle.startUpdate(addLater, {
    args: [7],
    updateId: 'later-1',
    waitForStage: WorkflowUpdateStage.ACCEPTED,
  });
  expect(update).toMatchObject({ updateId: 'later-1', workflowId });
  expect(update.workflowRunId).toBe(handle.firstExecutionRunId);
  // Accepted, and still open: the handler waits for `release`.
  const types = (await handle.fetchHistory()).map((e) => e.type);
  expect(types).toContain('WorkflowUpdateAccepted');
  expect(types).not.toContain('WorkflowUpdateCompleted');
  await handle.signal(release);
  await expect(update.result()).resolves.toBe(7);
  // A handle by ID reads the recorded outcome.
  await expect(handle.getUpdateHandle<number>('later-1').result()).resolves.toBe(7);
  await expect(handle.getUpdateHandle('no-such-update').result()).rejects.toMatchObject({
    code: 'NOT_FOUND',
  });
  // COMPLETED waits for the handler.
  const done = await handle.startUpdate(addItem, {
    args: ['sku-1', 3],
    waitForStage: WorkflowUpdateStage.COMPLETED,
  });
  await expect(done.result()).resolves.toBe(10);
  // A rejected update fails startUpdate itself.
  await expect(
    handle.startUpdate(addItem, { args: ['sku-2', -1], waitForStage: 'ACCEPTED' }),
  ).rejects.toThrow(WorkflowUpdateFailedError);
  await expect(
    handle.startUpdate(addItem, {
      args: ['sku-3', 1],
      waitForStage: WorkflowUpdateStage.ADMITTED as unknown as 'ACCEPTED',
    }),
  ).rejects.toThrow(/waitForStage "ADMITTED" is not supported/);
  await handle.signal(checkout);
  await expect(handle.result()).resolves.toEqual({ items: ['sku-1'], total: 10 });
}

export async function updateWithStart(client: ClientShape, workflowId: string): Promise<void> {
  const first = new WithStartWorkflowOperation(cart, {
    workflowId,
    taskQueue: 'carts',
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
  await expect(
    client.workflow.executeUpdateWithStart(addItem, { args: ['a', 2], startWorkflowOperation: first }),
  ).resolves.toBe(2);
  const started = await first.workflowHandle();
  // The same operation cannot serve twice.
  await expect(
    client.workflow.executeUpdateWithStart(addItem, { args: ['a', 2], startWorkflowOperation: first }),
  ).rejects.toThrow(/already been executed/);
  // USE_EXISTING: the open run gets the update; nothing new starts.
  const second = new WithStartWorkflowOperation(cart, {
    workflowId,
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  const update = await client.workflow.startUpdateWithStart(addItem, {
    args: ['b', 3],
    waitForStage: WorkflowUpdateStage.ACCEPTED,
    startWorkflowOperation: second,
  });
  await expect(update.result()).resolves.toBe(5);
  expect(update.workflowRunId).toBe(started.firstExecutionRunId);
  expect((await second.workflowHandle()).workflowId).toBe(workflowId);
  await expect(started.query(items)).resolves.toEqual(['a', 'b']);
  // FAIL with an open run: the start fails, and so does the operation's handle.
  const failing = new WithStartWorkflowOperation(cart, {
    workflowId,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
  });
  await expect(
    client.workflow.executeUpdateWithStart(addItem, { args: ['c', 1], startWorkflowOperation: failing }),
  ).rejects.toThrow(WorkflowExecutionAlreadyStartedError);
  await expect(failing.workflowHandle()).rejects.toThrow(WorkflowExecutionAlreadyStartedError);
  // The conflict policy is required, as in Temporal.
  const loose = new WithStartWorkflowOperation(cart, { workflowId } as never);
  await expect(
    client.workflow.executeUpdateWithStart(addItem, { args: ['c', 1], startWorkflowOperation: loose }),
  ).rejects.toThrow(InvalidArgumentError);
  await started.signal(checkout);
  await expect(started.result()).resolves.toEqual({ items: ['a', 'b'], total: 5 });
}

export async function workflowClientShape(client: ClientShape, prefix: string): Promise<void> {
  const signalled = await client.workflow.signalWithStart(cart, {
    workflowId: `${prefix}-sws`,
    taskQueue: 'carts',
    signal: checkout,
  });
  await expect(signalled.result()).resolves.toEqual({ items: [], total: 0 });
  const handle = client.workflow.getHandle<typeof cart>(`${prefix}-sws`);
  await expect(handle.result()).resolves.toEqual({ items: [], total: 0 });
  // Temporal's policy values: a second run of a closed workflow ID is refused.
  await expect(
    client.workflow.start(cart, {
      workflowId: `${prefix}-sws`,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    }),
  ).rejects.toThrow(WorkflowExecutionAlreadyStartedError);
  await expect(
    client.workflow.start(cart, {
      workflowId: `${prefix}-sws`,
      workflowIdConflictPolicy: 'TERMINATE_EXISTING' as never,
    }),
  ).rejects.toThrow(/TERMINATE_EXISTING" is not supported: wf does not terminate an open run/);
  const seen: string[] = [];
  for await (const run of client.workflow.list({ workflowType: 'cart' })) seen.push(run.workflowId);
  expect(seen).toContain(`${prefix}-sws`);
}
