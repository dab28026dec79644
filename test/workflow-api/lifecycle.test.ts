import { describe, expect, it } from 'vitest';
import { Context } from 'wfkit/activity';
import { CancelledFailure, TerminatedFailure, TimeoutFailure } from 'wfkit/workflow';
import type { ErrorShape } from './fixtures/api/src/workflows/index.js';
import { rejection, tearDownEnvAfterEach, testEnv } from './helpers.js';

tearDownEnvAfterEach();

describe('continueAsNew', () => {
  it('chains runs; handle.result() follows the chain; the new run knows where it continued from', async () => {
    const env = await testEnv();
    const handle = await env.client.start('counter', { workflowId: 'can', args: [0] });
    await expect(handle.result()).resolves.toBe(3);
    const first = await env.history('can', handle.firstExecutionRunId);
    expect(first.at(-1)).toMatchObject({ type: 'WorkflowExecutionContinuedAsNew', args: [1] });
    const latest = await env.history('can');
    expect(latest[0]).toMatchObject({
      type: 'WorkflowExecutionStarted',
      args: [3],
      firstRunId: handle.firstExecutionRunId,
    });
    expect(latest[0]?.type === 'WorkflowExecutionStarted' && latest[0].continuedFromRunId).toBeTruthy();
    expect(latest.at(-1)).toMatchObject({ type: 'WorkflowExecutionCompleted', result: 3 });
  });
});

describe('child workflows', () => {
  it('executeChild returns the child result', async () => {
    const env = await testEnv();
    await expect(env.client.execute('parent', { workflowId: 'p1', args: ['execute'] })).resolves.toBe(
      'child got x',
    );
    expect((await env.history('child-1'))[0]).toMatchObject({ parent: { workflowId: 'p1' } });
  });

  it('startChild gives a handle whose result() is the child result', async () => {
    const env = await testEnv();
    await expect(env.client.execute('parent', { workflowId: 'p2', args: ['start'] })).resolves.toBe(
      'child-2: child got y',
    );
  });

  it('a failed child surfaces as ChildWorkflowFailure caused by the ApplicationFailure', async () => {
    const env = await testEnv();
    const shape = (await env.client.execute('parent', { workflowId: 'p3', args: ['fail'] })) as ErrorShape;
    expect(shape).toMatchObject({
      name: 'ChildWorkflowFailure',
      isChildWorkflowFailure: true,
      cause: { type: 'ChildRefused', isApplicationFailure: true },
    });
  });

  it('a child whose workflow ID is already running fails with ChildWorkflowFailure', async () => {
    const env = await testEnv();
    await env.client.start('child', { workflowId: 'already-running', args: ['wait'] });
    const shape = (await env.client.execute('parent', {
      workflowId: 'p4',
      args: ['duplicate'],
    })) as ErrorShape;
    expect(shape).toMatchObject({
      name: 'ChildWorkflowFailure',
      isChildWorkflowFailure: true,
      cause: { type: 'WorkflowExecutionAlreadyStarted' },
    });
    expect(shape.message).toContain('already-running');
  });
});

describe('cancellation', () => {
  it('CancellationScope.cancellable / withTimeout / nonCancellable', async () => {
    let aborted: unknown;
    const env = await testEnv({
      slow: async (d: string) => {
        const ctx = Context.current();
        ctx.cancellationSignal.addEventListener('abort', () => {
          aborted = ctx.cancellationSignal.reason;
        });
        await ctx.sleep(d);
        return 'finished';
      },
    });
    const out = (await env.client.execute('scopes', { workflowId: 'sc' })) as Record<string, unknown>;
    expect(out.cancellable).toEqual({ cancelled: true, name: 'CancelledFailure' });
    expect(out.withTimeout).toMatchObject({ isActivityFailure: true, isCancellation: true });
    expect(aborted).toBeInstanceOf(CancelledFailure);
    expect(out.nonCancellable).toBe('slept');
    const types = (await env.history('sc')).map((e) => e.type);
    expect(types).toContain('TimerCanceled');
    expect(types).toContain('ActivityTaskCancelRequested');
  });

  it('handle.cancel() fails the result with WorkflowFailedError caused by CancelledFailure; history ends WorkflowExecutionCanceled', async () => {
    const env = await testEnv();
    const handle = await env.client.start('cancellable', { workflowId: 'cx' });
    await handle.cancel('no longer needed');
    const error = await rejection(handle.result());
    expect(error.name).toBe('WorkflowFailedError');
    expect(error.cause).toBeInstanceOf(CancelledFailure);
    const history = await env.history('cx');
    expect(history.map((e) => e.type)).toEqual(
      expect.arrayContaining(['WorkflowExecutionCancelRequested', 'TimerCanceled']),
    );
    expect(history.at(-1)?.type).toBe('WorkflowExecutionCanceled');
  });

  it('a workflow that catches the cancellation runs cleanup in a nonCancellable scope, then is cancelled', async () => {
    const cleaned: string[] = [];
    const env = await testEnv({
      cleanup: async (what: string) => {
        cleaned.push(what);
        return `cleaned ${what}`;
      },
    });
    const handle = await env.client.start('cleansUp', { workflowId: 'cu' });
    await env.sleep('1 minute');
    await handle.cancel();
    const error = await rejection(handle.result());
    expect(error.cause).toBeInstanceOf(CancelledFailure);
    expect(cleaned).toEqual(['order']);
    const history = await env.history('cu');
    expect(
      history
        .filter((e) => e.type === 'ActivityTaskScheduled')
        .map((e) => e.type === 'ActivityTaskScheduled' && e.activityType),
    ).toEqual(['slow', 'cleanup']);
    expect(history.at(-1)?.type).toBe('WorkflowExecutionCanceled');
  });

  it('terminate stops the run at once: TerminatedFailure, history ends WorkflowExecutionTerminated', async () => {
    const env = await testEnv();
    const handle = await env.client.start('forever', { workflowId: 'term' });
    await handle.terminate('stop it');
    const error = await rejection(handle.result());
    expect(error.cause).toBeInstanceOf(TerminatedFailure);
    expect(error.cause.message).toContain('stop it');
    expect((await env.history('term')).at(-1)?.type).toBe('WorkflowExecutionTerminated');
  });

  it('the workflow run timeout fails the run with a TimeoutFailure', async () => {
    const env = await testEnv();
    const handle = await env.client.start('forever', { workflowId: 'rto', workflowRunTimeout: '1 hour' });
    const error = await rejection(handle.result());
    expect(error.cause).toBeInstanceOf(TimeoutFailure);
    expect(error.cause.timeoutType).toBe('WORKFLOW_RUN');
    const history = await env.history('rto');
    expect(history.at(-1)?.type).toBe('WorkflowExecutionTimedOut');
    expect(Date.parse(history.at(-1)!.eventTime) - Date.parse(history[0]!.eventTime)).toBe(3_600_000);
  });
});

describe('runs sharing one sandbox', () => {
  // wf's runtime is evaluated once per context and shared by its runs; the user's modules are not.
  it('keep their own module state and their own workflowInfo(), however their activations interleave', async () => {
    const env = await testEnv();
    const handles = await Promise.all(
      ['m1', 'm2', 'm3'].map((workflowId) => env.client.start('moduleState', { workflowId, args: [] })),
    );
    await Promise.all(handles.map((h) => h.signal('go')));
    const results = await Promise.all(handles.map((h) => h.result()));
    expect(results).toEqual([
      { timesCalled: 1, workflowId: 'm1' },
      { timesCalled: 1, workflowId: 'm2' },
      { timesCalled: 1, workflowId: 'm3' },
    ]);
  });
});
