import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  built,
  copyOrderSaga,
  jsonLines,
  killAll,
  readRunFiles,
  removeTempDirs,
  spawnDev,
  wf,
} from './support.js';

const order = (id: string, amount = 4999) =>
  JSON.stringify({ orderId: id, amount, items: [{ sku: 'WIDGET-1', qty: 2 }], email: 'ada@example.com' });

const ACTIVITIES = ['validatePayment', 'reserveInventory', 'shipOrder', 'sendConfirmationEmail'];

describe.skipIf(!built)('acceptance: the order saga end to end (needs a build)', () => {
  afterEach(killAll);
  afterAll(removeTempDirs);

  it('wf dev + start, result, show, show -o json, list, describe', async () => {
    const project = await copyOrderSaga();
    const dev = await spawnDev(project);
    const env = { WF_ADDRESS: dev.url };

    const started = await wf(
      ['start', '--type', 'orderWorkflow', '--workflow-id', 'order-1', '--input', order('order-1')],
      env,
    );
    expect(started.stderr).toBe('');
    expect(started).toMatchObject({ code: 0 });
    expect(started.stdout).toMatch(/^Started workflow order-1 \(run [0-9a-f-]{36}\)\n$/);
    const runId = /run ([0-9a-f-]{36})/.exec(started.stdout)![1]!;

    const result = await wf(['result', '--workflow-id', 'order-1', '-o', 'json'], env);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual({
      orderId: 'order-1',
      paymentId: 'pay-order-1',
      trackingNumber: 'TRK-order-1',
    });

    const [text, show, json, list, describeOut] = await Promise.all([
      wf(['result', '--workflow-id', 'order-1'], env),
      wf(['show', '--workflow-id', 'order-1'], env),
      wf(['show', '--workflow-id', 'order-1', '-o', 'json'], env),
      wf(['list'], env),
      wf(['describe', '--workflow-id', 'order-1'], env),
    ]);
    expect(text.stdout).toContain('"trackingNumber": "TRK-order-1"');

    expect(show).toMatchObject({ code: 0, stderr: '' });
    for (const activity of ACTIVITIES) {
      expect(show.stdout).toMatch(new RegExp(`ActivityTaskScheduled\\s+${activity}\\(`));
      expect(show.stdout).toMatch(new RegExp(`ActivityTaskCompleted\\s+${activity} attempt 1`));
    }
    expect(show.stdout).toMatch(/WorkflowExecutionCompleted\s+→ \{"orderId":"order-1"/);
    // NO_COLOR: no escape codes in the timeline.
    expect(show.stdout.includes('\u001b[')).toBe(false);

    const events = jsonLines<{ eventId: number; type: string; activityType?: string; runId?: string }>(
      json.stdout,
    );
    expect(events.map((e) => e.eventId)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]).toMatchObject({ type: 'WorkflowExecutionStarted', workflowId: 'order-1', runId });
    expect(events.filter((e) => e.type === 'ActivityTaskScheduled').map((e) => e.activityType)).toEqual(
      ACTIVITIES,
    );
    expect(events.at(-1)).toMatchObject({ type: 'WorkflowExecutionCompleted' });

    expect(list.stdout).toMatch(/^WORKFLOW ID\s+TYPE\s+STATUS/);
    expect(list.stdout).toMatch(
      new RegExp(`order-1\\s+orderWorkflow\\s+COMPLETED\\s+\\S+\\s+14\\s+${runId}`),
    );

    expect(describeOut).toMatchObject({ code: 0, stderr: '' });
    expect(describeOut.stdout).toMatch(/Workflow ID\s+order-1/);
    expect(describeOut.stdout).toMatch(new RegExp(`Run ID\\s+${runId}`));
    expect(describeOut.stdout).toMatch(/Status\s+COMPLETED/);
    expect(describeOut.stdout).toMatch(/Events\s+14/);

    // The dev server's terminal shows each event and the workflow's log line.
    expect(dev.output()).toMatch(/order-1 #14 WorkflowExecutionCompleted/);
    expect(dev.output()).toMatch(/\[info\] order completed/);
    expect(existsSync(path.join(project, '.wf', 'runs'))).toBe(true);
  });

  it('wf run prints the result and exits 0; a failing order exits 1 with the failure', async () => {
    const project = await copyOrderSaga();
    const ok2 = await wf([
      'run',
      'orderWorkflow',
      '--project',
      project,
      '-w',
      'run-ok2',
      '--input',
      order('ok2'),
    ]);
    expect(ok2.stderr).toBe('');
    expect(ok2.code).toBe(0);
    expect(ok2.stdout).toMatch(/^workflow run-ok2 \(run [0-9a-f-]{36}\) completed$/m);
    expect(ok2.stdout).toContain('"trackingNumber": "TRK-ok2"');

    // A torn tail (the last line cut half-way, as by a crash mid-write) is repaired and reported by
    // `wf run` as by `wf dev`: it used to be cut silently.
    const okFile = (await readRunFiles(path.join(project, '.wf'))).get('run-ok2')!;
    const okText = readFileSync(okFile.file, 'utf8');
    writeFileSync(okFile.file, okText.slice(0, okText.length - 40));

    const bad = await wf([
      'run',
      'orderWorkflow',
      '--project',
      project,
      '-w',
      'run-bad2',
      '--input',
      order('b', 0),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/workflow run-bad2 \(run [0-9a-f-]{36}\) failed/);
    expect(bad.stderr).toMatch(
      new RegExp(
        `^warning: cut a torn final record \\(\\d+ bytes\\) from ${okFile.file.replace(/[.]/g, '\\.')}; the original is kept at `,
      ),
    );
    expect(bad.stderr).toMatch(
      /Error: workflow run-bad2 failed: OrderFailed: order b failed: .*amount must be positive, got 0/,
    );
  });
});
