/**
 * Temporal's activity API through `wf dev` (the built binary): the activities of
 * test/compat/activities-project, their log lines in `--log-format json`, a BENIGN failure's level,
 * and async completion by task token over HTTP with wfkit/client.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityNotFoundError, connect, type WorkflowClient } from 'wfkit/client';
import {
  built,
  type DevServer,
  jsonLines,
  killAll,
  makeProject,
  rawRequest,
  removeTempDirs,
  spawnDev,
  until,
  wf,
} from '../acceptance/support.js';

const fixture = fileURLToPath(new URL('./activities-project/', import.meta.url));

async function copyFixture(): Promise<string> {
  const files: Record<string, string> = {};
  for (const rel of ['src/activities/index.ts', 'src/workflows/index.ts']) {
    files[rel] = await readFile(path.join(fixture, rel), 'utf8');
  }
  return makeProject(files);
}

interface ApprovalRequest {
  approver: string;
  taskToken: string;
}

/** The `index`th approval request the activity wrote for `approver` (waits for it). */
async function approvalRequest(project: string, approver: string, index = 0): Promise<ApprovalRequest> {
  const file = path.join(project, 'approvals.jsonl');
  return until(
    async () => {
      const text = await readFile(file, 'utf8').catch(() => '');
      return jsonLines<ApprovalRequest>(text).filter((r) => r.approver === approver)[index];
    },
    15_000,
    `approval request ${index + 1} for ${approver}`,
  ) as Promise<ApprovalRequest>;
}

describe.skipIf(!built)('Temporal activities under wf dev (needs a build)', () => {
  let project: string;
  let dev: DevServer;
  let env: Record<string, string>;
  let client: WorkflowClient;

  beforeAll(async () => {
    project = await copyFixture();
    dev = await spawnDev(project, { args: ['--log-format', 'json', '--no-watch'], ready: /listening on/ });
    env = { WF_ADDRESS: dev.url };
    client = connect({ address: dev.url });
  });
  afterAll(async () => {
    await client?.close();
    await killAll();
    await removeTempDirs();
  });

  const records = () =>
    jsonLines(
      dev
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .join('\n'),
    );

  it("log: activity lines reach wf dev's output with the activity's context", async () => {
    const run = await wf(
      ['execute', '--type', 'greeting', '-w', 'greet-dev', '--input', '"Ada"', '-o', 'json'],
      env,
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ workflowId: 'greet-dev', result: 'Hello, Ada!' });
    const line = await until(() =>
      records().find((r) => r.kind === 'log' && r.source === 'activity' && r.workflowId === 'greet-dev'),
    );
    expect(line).toMatchObject({
      level: 'info',
      message: 'Greeting',
      attributes: { name: 'Ada' },
      workflowType: 'greeting',
      activityType: 'greet',
      attempt: 1,
      runId: expect.any(String),
      activityId: expect.any(String),
    });
  });

  it('ApplicationFailureCategory.BENIGN: the failed attempt is reported at debug level, with its category', async () => {
    const run = await wf(
      ['execute', '--type', 'payment', '-w', 'pay-dev', '--input', '50000', '-o', 'json'],
      env,
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      result: 'CardDeclined: card declined: over the limit (BENIGN)',
    });
    const failed = await until(() =>
      records().find(
        (r) =>
          r.kind === 'event' &&
          r.workflowId === 'pay-dev' &&
          (r.event as { type: string }).type === 'ActivityTaskFailed',
      ),
    );
    expect(failed).toMatchObject({
      level: 'debug',
      event: { failure: { category: 'BENIGN', type: 'CardDeclined' } },
    });
  });

  it('CompleteAsyncError: the run waits until client.activity.complete(taskToken) over HTTP', async () => {
    const started = await wf(['start', '--type', 'approval', '-w', 'approve-dev', '--input', '"ada"'], env);
    expect(started).toMatchObject({ code: 0, stderr: '' });
    const request = await approvalRequest(project, 'ada');
    expect(request.approver).toBe('ada');

    // Still waiting: no result yet, the activity pending.
    const pending = await wf(['describe', '-w', 'approve-dev', '-o', 'json'], env);
    expect(JSON.parse(pending.stdout)).toMatchObject({
      status: 'RUNNING',
      pendingActivities: [{ activityType: 'requestApproval' }],
    });

    await client.activity.heartbeat(request.taskToken, { reminded: 1 });
    // A token that is not one of wf's is refused with a 400 that says what to pass.
    const bad = await rawRequest(dev.url, {
      method: 'POST',
      path: '/api/v1/activities/complete',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ taskToken: 'bm90LWEtdG9rZW4=', result: 1 }),
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/not a wf task token/);

    await client.activity.complete(request.taskToken, 'approved by ada');
    const result = await wf(['result', '-w', 'approve-dev', '-o', 'json'], env);
    expect(result).toMatchObject({ code: 0, stdout: '"approved by ada"\n' });
    await expect(client.activity.complete(request.taskToken, 'twice')).rejects.toThrow(ActivityNotFoundError);
  });

  it('client.activity.fail(taskToken) over HTTP: a non-retryable failure reaches the workflow', async () => {
    await wf(['start', '--type', 'approval', '-w', 'refuse-dev', '--input', '"bob"'], env);
    const request = await approvalRequest(project, 'bob');
    await client.activity.fail(
      request.taskToken,
      Object.assign(new Error('bob said no'), { name: 'Refused' }),
    );
    // Retryable: attempt 2 asks again with a token of its own.
    const second = await approvalRequest(project, 'bob', 1);
    expect(second.taskToken).not.toBe(request.taskToken);
    const { ApplicationFailure } = await import('wfkit/client');
    await client.activity.fail(
      second.taskToken,
      ApplicationFailure.nonRetryable('bob said no again', 'Refused'),
    );
    const result = await wf(['result', '-w', 'refuse-dev', '-o', 'json'], env);
    expect(result).toMatchObject({ code: 0, stdout: '"refused: bob said no again"\n' });
  });

  it('wf activity heartbeat / fail / complete: async completion from the command line', async () => {
    await wf(['start', '--type', 'approval', '-w', 'cli-dev', '--input', '"dana"'], env);
    const first = await approvalRequest(project, 'dana');
    const heartbeat = await wf(['activity', 'heartbeat', '-t', first.taskToken, '--details', '{"n":1}'], env);
    expect(heartbeat).toMatchObject({ code: 0, stdout: 'Heartbeat recorded\n', stderr: '' });
    const fail = await wf(
      ['activity', 'fail', '-t', first.taskToken, '--message', 'dana is away', '--type', 'Away'],
      env,
    );
    expect(fail).toMatchObject({ code: 0, stdout: 'Activity attempt failed\n', stderr: '' });
    const second = await approvalRequest(project, 'dana', 1);
    // The first attempt's token is spent: refused, saying which attempt runs now.
    const stale = await wf(['activity', 'complete', '-t', first.taskToken, '--result', '"late"'], env);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/attempt 2 runs now/);
    const badJson = await wf(['activity', 'complete', '-t', second.taskToken, '--result', '{oops'], env);
    expect(badJson.code).not.toBe(0);
    expect(badJson.stderr).toMatch(/--result is not valid JSON/);
    const complete = await wf(
      ['activity', 'complete', '-t', second.taskToken, '--result', '"approved on the command line"'],
      env,
    );
    expect(complete).toMatchObject({ code: 0, stdout: 'Activity completed\n', stderr: '' });
    const result = await wf(['result', '-w', 'cli-dev', '-o', 'json'], env);
    expect(result).toMatchObject({ code: 0, stdout: '"approved on the command line"\n' });
  });

  it('an attempt waiting for its task token survives kill -9 of wf dev: not run again, the same token completes it', async () => {
    const own = await copyFixture();
    let server = await spawnDev(own, { args: ['--no-watch'] });
    const ownEnv = { WF_ADDRESS: server.url };
    await wf(['start', '--type', 'approval', '-w', 'restart-dev', '--input', '"erin"'], ownEnv);
    const request = await approvalRequest(own, 'erin');
    // Wait until the waiting attempt is durable (ActivityTaskStarted with asyncCompletion).
    await until(async () => {
      const show = await wf(['show', '-w', 'restart-dev', '-o', 'json'], ownEnv);
      return show.stdout.includes('"asyncCompletion":true');
    });
    await server.kill('SIGKILL');
    server = await spawnDev(own, { port: server.port, args: ['--no-watch'] });
    const complete = await wf(
      ['activity', 'complete', '-t', request.taskToken, '--result', '"approved after a crash"'],
      ownEnv,
    );
    expect(complete).toMatchObject({ code: 0, stderr: '' });
    const result = await wf(['result', '-w', 'restart-dev', '-o', 'json'], ownEnv);
    expect(result).toMatchObject({ code: 0, stdout: '"approved after a crash"\n' });
    // The activity ran once: one approval request for erin.
    const text = await readFile(path.join(own, 'approvals.jsonl'), 'utf8');
    expect(jsonLines<ApprovalRequest>(text).filter((r) => r.approver === 'erin')).toHaveLength(1);
    await server.kill();
  });

  it('an activity importing a Temporal name wf lacks (getClient) is refused at load, saying why and what to use', async () => {
    const bad = await makeProject({
      'src/activities/index.ts': `import { getClient } from 'wfkit/activity';
export async function notify(): Promise<void> {
  await getClient().workflow.start('x', { workflowId: 'x', taskQueue: 'q' });
}
`,
      'src/workflows/index.ts': `export async function noop(): Promise<void> {}
`,
    });
    const server = await spawnDev(bad, { expectExit: true, args: ['--no-watch'] });
    const code = await server.exited;
    expect(server.output()).toMatch(
      /getClient \(imported from wfkit\/activity\) is not supported by wf: wf gives activities no client of their own\. Create one with connect\(\)/,
    );
    // A mistake in the user's code: a usage error (2), as other bad input at start is.
    expect(code).toBe(2);
  });
});
