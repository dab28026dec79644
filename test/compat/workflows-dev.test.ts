/**
 * The Temporal-style workflows of test/compat/workflows-project under the built `wf dev` (so run
 * `npm run build` first): the same code as under wfkit/testing, through the HTTP API and the CLI.
 */
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApplicationFailure,
  connect,
  InvalidArgumentError,
  type WorkflowClient,
  WorkflowUpdateFailedError,
} from 'wfkit/client';
import {
  built,
  type DevServer,
  killAll,
  makeProject,
  removeTempDirs,
  spawnDev,
  until,
  wf,
} from '../acceptance/support.js';
import {
  account,
  cancelReport,
  describeSelf,
  peek,
  plainTimers,
  returnsNothing,
  stop,
  touch,
  withdraw,
} from './workflows-project/src/workflows/index.js';

const projectSource = fileURLToPath(new URL('./workflows-project/src', import.meta.url));

describe.skipIf(!built)('Temporal-style workflows under wf dev (needs a build)', () => {
  let dev: DevServer;
  let client: WorkflowClient;
  let env: Record<string, string>;

  beforeAll(async () => {
    const project = await makeProject({});
    await cp(projectSource, path.join(project, 'src'), { recursive: true });
    dev = await spawnDev(project);
    client = connect({ address: dev.url });
    env = { WF_ADDRESS: dev.url };
  });
  afterAll(async () => {
    await client?.close();
    await killAll();
    await removeTempDirs();
  });

  it('WAIT_CANCELLATION_COMPLETED: the workflow resumes only after the activity ended as cancelled', async () => {
    const handle = await client.start(cancelReport, {
      workflowId: 'dev-wait',
      args: ['WAIT_CANCELLATION_COMPLETED'],
    });
    await expect(handle.result()).resolves.toBe('cancelled');
    const history = await handle.history();
    const requested = history.findIndex((e) => e.type === 'ActivityTaskCancelRequested');
    const ended = history.findIndex(
      (e) => e.type === 'ActivityTaskFailed' && e.failure.name === 'CancelledFailure',
    );
    const next = history.map((e) => e.type).lastIndexOf('ActivityTaskScheduled');
    expect(requested).toBeGreaterThan(0);
    expect(ended).toBeGreaterThan(requested);
    expect(next).toBeGreaterThan(ended);
  });

  it('setTimeout is a durable timer on the server clock (wf time skip fires it)', async () => {
    const handle = await client.start(plainTimers, { workflowId: 'dev-timers' });
    await until(
      async () => (await handle.history()).filter((e) => e.type === 'TimerStarted').length === 3,
      15_000,
      'three timers started',
    );
    await client.skipTime('2 minutes');
    await expect(handle.result()).resolves.toEqual(['two seconds', 'one minute']);
  });

  it('undefined results stay undefined over HTTP', async () => {
    const handle = await client.start(returnsNothing, { workflowId: 'dev-nothing' });
    await expect(handle.query(peek)).resolves.toBeUndefined();
    await expect(handle.executeUpdate(touch)).resolves.toBeUndefined();
    await expect(handle.result()).resolves.toBeUndefined();
  });

  it('rejected and failed updates are WorkflowUpdateFailedError over HTTP, the failure as cause', async () => {
    const handle = await client.start(account, { workflowId: 'dev-account' });
    const rejected = await handle.executeUpdate(withdraw, { args: [0] }).catch((err: unknown) => err);
    expect(rejected).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((rejected as WorkflowUpdateFailedError).cause.message).toBe('amount must be positive, got 0');
    const failed = await handle.executeUpdate(withdraw, { args: [99] }).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((failed as WorkflowUpdateFailedError).cause).toBeInstanceOf(ApplicationFailure);
    expect(((failed as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe(
      'InsufficientFunds',
    );
    await handle.signal(stop);
    await expect(handle.result()).resolves.toBe(100);
  });

  it("workflowInfo() gives Temporal's fields", async () => {
    const info = await client.execute(describeSelf, { workflowId: 'dev-info' });
    expect(info).toMatchObject({
      workflowId: 'dev-info',
      workflowType: 'describeSelf',
      taskQueue: 'default',
      namespace: 'default',
      attempt: 1,
      searchAttributes: {},
      isReplaying: false,
    });
  });

  it('cronSchedule is refused with a clear error by the client, the HTTP API and the CLI; nothing starts', async () => {
    const refusal = /cronSchedule.*not supported by wf: cron workflows are not run.*Use a Schedule instead/;
    const viaClient = await client
      .start(describeSelf, { workflowId: 'dev-cron', cronSchedule: '*/5 * * * *' })
      .catch((err: unknown) => err);
    expect(viaClient).toBeInstanceOf(InvalidArgumentError);
    expect((viaClient as Error).message).toMatch(refusal);

    const viaHttp = await fetch(`${dev.url}/api/v1/workflows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ workflowType: 'describeSelf', workflowId: 'dev-cron', cronSchedule: '@hourly' }),
    });
    expect(viaHttp.status).toBe(400);
    const body = (await viaHttp.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('INVALID_ARGUMENT');
    expect(body.error.message).toMatch(refusal);

    const viaCli = await wf(
      ['start', '--type', 'describeSelf', '-w', 'dev-cron', '--cron-schedule', '@daily'],
      env,
    );
    expect(viaCli.code).not.toBe(0);
    expect(viaCli.stdout).toBe('');
    expect(viaCli.stderr).toMatch(/--cron-schedule \("@daily"\) is not supported by wf/);

    const listed = await wf(['list', '-o', 'json'], env);
    expect(listed.stdout).not.toContain('dev-cron');
  });
});
