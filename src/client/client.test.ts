import { describe, expect, it } from 'vitest';
import { FakeWorkflowService } from '../../test/support/fake-service.js';
import { InvalidArgumentError, WorkflowExecutionAlreadyStartedError } from '../common/errors.js';
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  TerminatedFailure,
  TimeoutFailure,
} from '../common/failures.js';
import { defineQuery, defineSignal, defineUpdate } from '../workflow/definitions.js';
import { WorkflowClient } from './client.js';
import { WorkflowFailedError } from './errors.js';

interface Order {
  orderId: string;
  amount: number;
}
interface Receipt {
  orderId: string;
  charged: number;
}

// Stand-ins for user workflow code: only their types and names matter to the client.
async function orderWorkflow(order: Order): Promise<Receipt> {
  return { orderId: order.orderId, charged: order.amount };
}
async function greet(): Promise<string> {
  return 'hi';
}
const approve = defineSignal<[approver: string]>('approve');
const state = defineQuery<Record<string, unknown>>('state');
const echo = defineQuery<unknown[], [a: number, b: string]>('echo');
const setDiscount = defineUpdate<{ updateId: string }, [percent: number]>('setDiscount');

async function failureOf(p: Promise<unknown>): Promise<WorkflowFailedError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof WorkflowFailedError) return err;
    throw err;
  }
  throw new Error('expected WorkflowFailedError');
}

describe('WorkflowClient', () => {
  it('starts a workflow by function and returns its typed result', async () => {
    const service = new FakeWorkflowService();
    const client = new WorkflowClient(service);
    const handle = await client.start(orderWorkflow, {
      workflowId: 'order-1',
      args: [{ orderId: 'order-1', amount: 5 }],
      workflowRunTimeout: '30s',
      memo: { team: 'a' },
    });
    expect(handle).toMatchObject({ workflowId: 'order-1', runId: 'run-1', firstExecutionRunId: 'run-1' });
    expect(service.calls[0]!.args[0]).toEqual({
      workflowType: 'orderWorkflow',
      workflowId: 'order-1',
      args: [{ orderId: 'order-1', amount: 5 }],
      runTimeoutMs: 30_000,
      memo: { team: 'a' },
    });
    setTimeout(() => service.complete('order-1', { orderId: 'order-1', charged: 5 }), 10);
    const receipt: Receipt = await handle.result();
    expect(receipt.charged).toBe(5);
  });

  it('starts by type name, and execute waits for the result', async () => {
    const service = new FakeWorkflowService();
    const client = new WorkflowClient(service);
    setTimeout(() => service.complete('g', 'hi'), 10);
    expect(await client.execute<typeof greet>('greet', { workflowId: 'g' })).toBe('hi');
    await client.start('greet', {
      workflowId: 'g2',
      args: [1, 'anything'],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    expect(service.calls.at(-1)!.args[0]).toMatchObject({
      args: [1, 'anything'],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  });

  it('refuses a bad run timeout or a missing workflow ID before calling the service', async () => {
    const service = new FakeWorkflowService();
    const client = new WorkflowClient(service);
    await expect(client.start(greet, { workflowId: 'g', workflowRunTimeout: 'soon' })).rejects.toThrow(
      /workflowRunTimeout must be a duration/,
    );
    await expect(client.start(greet, { workflowId: '' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.start(async () => 1, { workflowId: 'x' })).rejects.toThrow(/has no name/);
    expect(service.calls).toEqual([]);
  });

  it('checks search attributes once, before calling the service, and sends them as lists', async () => {
    const service = new FakeWorkflowService();
    const client = new WorkflowClient(service);
    const start = (searchAttributes: unknown) =>
      client.start(greet, { workflowId: 'g', searchAttributes } as Parameters<typeof client.start>[1]);
    await expect(start({ Region: [{}] })).rejects.toThrow(
      'searchAttributes.Region: {} is not a string, finite number or boolean',
    );
    await expect(start({ 'a-b': 'x' })).rejects.toThrow(
      'searchAttributes: "a-b" is not a search attribute name (letters, digits and _, not starting with a digit, at most 64)',
    );
    expect(service.calls).toEqual([]);
    await start({ Region: 'eu', At: new Date(0) });
    expect(service.calls[0]!.args[0]).toMatchObject({
      searchAttributes: { Region: ['eu'], At: ['1970-01-01T00:00:00.000Z'] },
    });
  });

  it('passes service errors through unchanged', async () => {
    const client = new WorkflowClient(new FakeWorkflowService());
    await client.start(greet, { workflowId: 'g' });
    await expect(client.start(greet, { workflowId: 'g' })).rejects.toBeInstanceOf(
      WorkflowExecutionAlreadyStartedError,
    );
  });

  it('signals, queries and updates with types taken from the definitions', async () => {
    const service = new FakeWorkflowService();
    const client = new WorkflowClient(service);
    const handle = await client.start(orderWorkflow, {
      workflowId: 'o',
      args: [{ orderId: 'o', amount: 1 }],
    });
    await handle.signal(approve, 'ada');
    const s: Record<string, unknown> = await handle.query(state);
    expect(s).toEqual({ approve: ['ada'] });
    expect(await handle.query(echo, 1, 'b')).toEqual([1, 'b']);
    const r = await handle.executeUpdate(setDiscount, { args: [10], updateId: 'u-1' });
    expect(r.updateId).toBe('u-1');
    expect((await handle.update(setDiscount, 5)).updateId).toBe('generated');
    await handle.signal('approve', 'by name', 2);
    expect(await handle.query<unknown[]>('echo', 'x')).toEqual(['x']);

    if (process.env.NEVER) {
      // Compile-time checks only (npm run typecheck): wrong argument types do not compile.
      // @ts-expect-error approver must be a string
      await handle.signal(approve, 42);
      // @ts-expect-error approve takes one argument
      await handle.signal(approve);
      // @ts-expect-error echo takes (number, string)
      await handle.query(echo, 'a', 1);
      // @ts-expect-error percent must be a number
      await handle.executeUpdate(setDiscount, { args: ['10'] });
      // @ts-expect-error args are required for an update with arguments
      await handle.executeUpdate(setDiscount);
      // @ts-expect-error orderWorkflow needs an Order
      await client.start(orderWorkflow, { workflowId: 'x', args: [{ orderId: 1 }] });
      // @ts-expect-error orderWorkflow needs its argument
      await client.start(orderWorkflow, { workflowId: 'x' });
      // @ts-expect-error the result is a Receipt, not a string
      const wrong: string = await handle.result();
      void wrong;
    }
  });

  it('cancels, terminates, describes and reads history through the handle', async () => {
    const service = new FakeWorkflowService();
    const client = new WorkflowClient(service);
    const a = await client.start(greet, { workflowId: 'a' });
    expect((await a.describe()).status).toBe('RUNNING');
    await a.cancel('not needed');
    expect(service.calls.at(-1)).toEqual({ method: 'cancel', args: [{ workflowId: 'a' }, 'not needed'] });
    expect((await a.history()).map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'WorkflowExecutionCancelRequested',
      'WorkflowExecutionCanceled',
    ]);
    expect(await a.fetchHistory()).toHaveLength(3);
    const b = await client.start(greet, { workflowId: 'b' });
    await b.terminate('stuck');
    expect(service.calls.at(-1)).toEqual({ method: 'terminate', args: [{ workflowId: 'b' }, 'stuck'] });
  });

  it('targets the latest run from a start handle and the given run from getHandle', async () => {
    const service = new FakeWorkflowService();
    const client = new WorkflowClient(service);
    const first = await client.start(greet, { workflowId: 'w' });
    service.complete('w', 1);
    await client.start(greet, { workflowId: 'w' });
    await first.signal('s');
    expect(service.calls.at(-1)!.args[0]).toEqual({ workflowId: 'w' });
    await expect(client.getHandle('w', 'run-1').signal('s')).rejects.toThrow(/completed/);
    expect(await client.getHandle('w', 'run-1').result()).toBe(1);
    const latest = client.getHandle('w');
    expect(latest.runId).toBeUndefined();
    expect((await latest.describe()).runId).toBe('run-2');
  });

  it('follows continue-as-new to the last run', async () => {
    const service = new FakeWorkflowService();
    const client = new WorkflowClient(service);
    const handle = await client.start(greet, { workflowId: 'c' });
    service.continueAsNew('c');
    service.continueAsNew('c');
    setTimeout(() => service.complete('c', 'end'), 10);
    expect(await handle.result()).toBe('end');
  });

  it('follows continue-as-new itself when the service stops at each run', async () => {
    const service = new FakeWorkflowService();
    const original = service.result.bind(service);
    service.result = (req) => original({ ...req, followRuns: false });
    const client = new WorkflowClient(service);
    const handle = await client.start(greet, { workflowId: 'c' });
    service.continueAsNew('c');
    service.complete('c', 'end');
    expect(await handle.result()).toBe('end');
  });

  it('throws WorkflowFailedError with the failure rebuilt as its cause', async () => {
    const service = new FakeWorkflowService();
    const client = new WorkflowClient(service);
    const handle = await client.start(orderWorkflow, {
      workflowId: 'f',
      args: [{ orderId: 'f', amount: 1 }],
    });
    service.fail('f', {
      name: 'ActivityFailure',
      message: 'activity charge failed',
      activityType: 'charge',
      cause: {
        name: 'ApplicationFailure',
        message: 'card declined',
        type: 'CardDeclined',
        nonRetryable: true,
      },
    });
    const err = await failureOf(handle.result());
    expect(err.message).toBe('workflow "f" failed: activity charge failed');
    expect(err).toMatchObject({ workflowId: 'f', status: 'FAILED' });
    expect(err.cause).toBeInstanceOf(ActivityFailure);
    expect((err.cause as ActivityFailure).activityType).toBe('charge');
    expect(err.cause.cause).toBeInstanceOf(ApplicationFailure);
    expect(err.cause.cause).toMatchObject({ type: 'CardDeclined', nonRetryable: true });
  });

  it('reports cancel, terminate and timeout as WorkflowFailedError causes, as Temporal does', async () => {
    const service = new FakeWorkflowService();
    const client = new WorkflowClient(service);
    const c = await client.start(greet, { workflowId: 'c' });
    await c.cancel();
    const cancelled = await failureOf(c.result());
    expect(cancelled.cause).toBeInstanceOf(CancelledFailure);
    expect(cancelled.status).toBe('CANCELED');

    const t = await client.start(greet, { workflowId: 't' });
    await t.terminate('operator');
    const terminated = await failureOf(t.result());
    expect(terminated.cause).toBeInstanceOf(TerminatedFailure);
    expect(terminated.message).toBe('workflow "t" failed: workflow terminated: operator');

    const o = await client.start(greet, { workflowId: 'o' });
    service.closeRun({ workflowId: 'o' }, { status: 'TIMED_OUT' });
    const timedOut = await failureOf(o.result());
    expect(timedOut.cause).toBeInstanceOf(TimeoutFailure);
    expect((timedOut.cause as TimeoutFailure).timeoutType).toBe('WORKFLOW_RUN');
  });

  it('lists every run page by page, or one page', async () => {
    const service = new FakeWorkflowService();
    const client = new WorkflowClient(service);
    for (let i = 0; i < 5; i++) await client.start(greet, { workflowId: `g-${i}` });
    const ids: string[] = [];
    for await (const run of client.list({ pageSize: 2 })) ids.push(run.workflowId);
    expect(ids).toEqual(['g-4', 'g-3', 'g-2', 'g-1', 'g-0']);
    expect(service.calls.filter((c) => c.method === 'list')).toHaveLength(3);
    const page = await client.listPage({ pageSize: 3 });
    expect(page.runs).toHaveLength(3);
    expect(page.nextPageToken).toBe('3');
  });

  it('runs onClose on close, and leaves a shared service open', async () => {
    let closed = 0;
    await new WorkflowClient(new FakeWorkflowService(), {
      onClose: async () => {
        closed++;
      },
    }).close();
    expect(closed).toBe(1);
    await new WorkflowClient(new FakeWorkflowService()).close();
  });
});
