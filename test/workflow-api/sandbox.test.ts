import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { TestWorkflowEnvironment } from 'wfkit/testing';
import { rejection, tearDownEnvAfterEach, testEnv } from './helpers.js';

tearDownEnvAfterEach();

describe('the sandbox refuses what would break determinism, saying why and what to do', () => {
  it.each([
    [
      // setTimeout is a durable timer, as in Temporal (test/compat); setInterval stays refused.
      'setInterval',
      /setInterval cannot be used in workflow code because timers in workflows must be durable\. Use sleep\(\)/,
    ],
    [
      'fetch',
      /fetch cannot be used in workflow code because network calls are not deterministic\. Call the service from an activity/,
    ],
    [
      'process.env',
      /process\.env cannot be used in workflow code because it reads the host environment.*Pass configuration as workflow arguments/,
    ],
    [
      'WeakRef',
      /WeakRef cannot be used in workflow code because garbage collection timing is not deterministic/,
    ],
    [
      'require',
      /require\("node:path"\) cannot be used in workflow code because workflow code is bundled ahead of time\. Use a static import/,
    ],
  ])('%s', async (what, message) => {
    const env = await testEnv();
    await expect(
      env.client.execute('refusal', { workflowId: `refuse-${what}`, args: [what] }),
    ).resolves.toMatch(message);
  });

  it('importing node:fs in workflow code fails environment creation with the import chain', async () => {
    const workflowsPath = fileURLToPath(
      new URL('./fixtures/forbidden-import/src/workflows/index.ts', import.meta.url),
    );
    const error = await rejection(TestWorkflowEnvironment.createTimeSkipping({ workflowsPath }));
    expect(error.message).toContain('node:fs');
    expect(error.message).toMatch(
      /src\/workflows\/index\.ts[\s\S]*src\/workflows\/helpers\.ts[\s\S]*node:fs/,
    );
  });
});

describe('workflow modules', () => {
  it('may declare names the builtins have (Map, Symbol) and still use the builtins', async () => {
    const workflowsPath = fileURLToPath(
      new URL('./fixtures/shadowing/src/workflows/index.ts', import.meta.url),
    );
    const env = await TestWorkflowEnvironment.createTimeSkipping({ workflowsPath });
    try {
      expect(await env.client.execute('shadows', { workflowId: 'shadows' })).toEqual([
        'own Map',
        'own Symbol',
        '{"builtin":true}',
        '1',
        '2',
      ]);
    } finally {
      await env.teardown();
    }
  });
});

describe('an infinite loop in workflow code', () => {
  // The loop runs in a child process (deadlock-child.ts, 200 ms activation timeout), so that a
  // regression that aborts the host cannot take the test worker down with it.
  let child: { status: number | null; stdout: string; stderr: string };
  beforeAll(() => {
    const script = fileURLToPath(new URL('./deadlock-child.ts', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    child = { status: run.status, stdout: run.stdout, stderr: run.stderr };
  }, 25_000);

  it('is reported as a WorkflowDeadlockError that says what to look for', () => {
    expect(child.stdout).toContain(
      'WorkflowDeadlockError: workflow code ran for more than 200 ms without awaiting anything: look for an infinite loop or a busy wait',
    );
  });

  // Workflow code runs in the workflow thread; the host stops that thread when a call overruns.
  it('pauses a run that loops inside the engine, with the diagnostic', () => {
    expect(child.stdout).toContain(
      'paused: workflow code ran for more than 200 ms without awaiting anything',
    );
  });

  it('makes again, on a new thread, a replay that was queued behind the call that looped', () => {
    expect(child.stdout).toContain('async replay that loops: WorkflowDeadlockError');
    expect(child.stdout).toContain('async replay queued behind it: RUNNING');
  });

  it('blames the call that loops, never a synchronous call that waited behind it', () => {
    expect(child.stdout).toMatch(
      /async call that loops: WorkflowDeadlockError; sync call behind it: (answered|WorkflowThreadStoppedError)/,
    );
  });

  it('rebuilds the other runs the stopped workflow thread held, with their state', () => {
    expect(child.stdout).toContain('bystander holds: ["a"]');
    expect(child.stdout).toContain('bystander result: ["a","b"]');
  });

  it('leaves the host process running', () => {
    expect(child.stderr).not.toContain('execution_async_id');
    expect(child.stdout).toContain('host survived');
    expect(child.status).toBe(0);
  });
});
