import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/connect.js';
import { WorkflowFailedError } from '../../src/client/errors.js';
import { Scrape } from '../support/prometheus-text.js';
import { built, copyOrderSaga, freePort, killAll, rawRequest, removeTempDirs, spawnDev } from './support.js';

/** Added to the order saga: an activity that fails twice before it succeeds, and a run that waits. */
const EXTRA_WORKFLOWS = `
import { condition, defineSignal, proxyActivities as proxyFlaky, setHandler as onSignal } from 'wfkit/workflow';
import type * as flakyActivities from '../activities/index.js';

const { flaky } = proxyFlaky<typeof flakyActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '20ms', backoffCoefficient: 1, maximumAttempts: 5 },
});

export async function flakyWorkflow(): Promise<string> {
  return await flaky();
}

export const release = defineSignal('release');

export async function parked(): Promise<string> {
  let released = false;
  onSignal(release, () => {
    released = true;
  });
  await condition(() => released);
  return 'released';
}
`;

const EXTRA_ACTIVITIES = `
export async function flaky(): Promise<string> {
  const { attempt } = Context.current().info;
  if (attempt < 3) throw ApplicationFailure.retryable('attempt ' + attempt + ' failed', 'Flaky');
  return 'succeeded on attempt ' + attempt;
}
`;

const order = (orderId: string, amount: number) => ({
  orderId,
  amount,
  items: [{ sku: 'WIDGET-1', qty: 2 }],
  email: 'ada@example.com',
});

async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return new Scrape(await res.text());
}

describe.skipIf(!built)('acceptance: GET /metrics (needs a build)', () => {
  afterEach(killAll);
  afterAll(removeTempDirs);

  it('counts the order saga and a retried activity once each, across a restart that replays an open run', async () => {
    const project = await copyOrderSaga();
    await appendFile(path.join(project, 'src', 'workflows', 'index.ts'), EXTRA_WORKFLOWS);
    await appendFile(path.join(project, 'src', 'activities', 'index.ts'), EXTRA_ACTIVITIES);
    const metricsPort = await freePort();
    // One cached run: parked-1 is evicted from memory.
    const dev = await spawnDev(project, {
      args: ['--metrics-port', String(metricsPort), '--max-cached-runs', '1', '--no-watch'],
    });
    const metricsUrl = `http://127.0.0.1:${metricsPort}`;
    const client = connect({ address: dev.url });
    try {
      await client.start('parked', { workflowId: 'parked-1', args: [] });
      expect(
        await client.execute('orderWorkflow', { workflowId: 'order-ok', args: [order('order-ok', 4999)] }),
      ).toMatchObject({ orderId: 'order-ok' });
      await expect(
        client.execute('orderWorkflow', { workflowId: 'order-bad', args: [order('order-bad', 0)] }),
      ).rejects.toBeInstanceOf(WorkflowFailedError);
      expect(await client.execute('flakyWorkflow', { workflowId: 'flaky-1', args: [] })).toBe(
        'succeeded on attempt 3',
      );
      expect(await client.getHandle('order-ok').query('step')).toBe('done');
      // Idle runs are evicted when a slot is released with more runs in memory than allowed: this
      // start leaves two, so parked-1 (the older) goes.
      await client.start('parked', { workflowId: 'parked-2', args: [] });
    } finally {
      await client.close();
    }

    const m = await scrape(metricsUrl);
    const wt = (workflow_type: string) => ({ workflow_type });
    const at = (activity_type: string) => ({ activity_type });
    expect(m.family('wf_workflow_started_total').type).toBe('COUNTER');
    expect(m.value('wf_workflow_started_total', wt('orderWorkflow'))).toBe(2);
    expect(m.value('wf_workflow_started_total', wt('flakyWorkflow'))).toBe(1);
    expect(m.value('wf_workflow_started_total', wt('parked'))).toBe(2);
    expect(m.value('wf_workflow_completed_total', wt('orderWorkflow'))).toBe(1);
    expect(m.value('wf_workflow_failed_total', wt('orderWorkflow'))).toBe(1);
    expect(m.value('wf_workflow_completed_total', wt('flakyWorkflow'))).toBe(1);
    expect(m.value('wf_workflow_completed_total', wt('parked'))).toBe(0);
    expect(m.count('wf_workflow_history_length_events', wt('orderWorkflow'))).toBe(2);

    // validatePayment ran for both orders (once each); the bad order failed it for good.
    expect(m.value('wf_activity_attempts_total', at('validatePayment'))).toBe(2);
    expect(m.value('wf_activity_completed_total', at('validatePayment'))).toBe(1);
    expect(m.value('wf_activity_failures_total', { ...at('validatePayment'), status: 'failed' })).toBe(1);
    expect(m.value('wf_activity_retries_total', at('validatePayment'))).toBe(0);
    for (const step of ['reserveInventory', 'shipOrder', 'sendConfirmationEmail']) {
      expect(m.value('wf_activity_attempts_total', at(step))).toBe(1);
      expect(m.value('wf_activity_completed_total', at(step))).toBe(1);
    }
    expect(m.value('wf_activity_scheduled_total', at('flaky'))).toBe(1);
    expect(m.value('wf_activity_attempts_total', at('flaky'))).toBe(3);
    expect(m.value('wf_activity_failures_total', { ...at('flaky'), status: 'failed' })).toBe(2);
    expect(m.value('wf_activity_retries_total', at('flaky'))).toBe(2);
    expect(m.value('wf_activity_completed_total', at('flaky'))).toBe(1);
    expect(m.family('wf_activity_execution_duration_seconds').type).toBe('HISTOGRAM');
    expect(m.count('wf_activity_execution_duration_seconds', at('flaky'))).toBe(3);
    expect(m.count('wf_activity_schedule_to_start_seconds', at('flaky'))).toBe(3);

    expect(m.value('wf_workflow_queries_total', { ...wt('orderWorkflow'), status: 'answered' })).toBe(1);
    expect(m.value('wf_workflow_runs_open')).toBe(2);
    expect(m.value('wf_workflow_runs_evicted')).toBe(1);
    expect(m.value('wf_workflow_runs_cached')).toBe(1);
    expect(m.value('wf_workflow_cache_evictions_total', wt('parked'))).toBeGreaterThanOrEqual(1);
    expect(m.value('wf_store_appended_events_total')).toBeGreaterThan(0);
    expect(m.value('wf_store_appended_bytes_total')).toBeGreaterThan(
      m.value('wf_store_appended_events_total'),
    );
    expect(m.count('wf_store_append_duration_seconds')).toBeGreaterThan(0);
    expect(m.families.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(m.families.has('process_cpu_seconds_total')).toBe(true);

    // The API port serves the same registry, under the API's Host and Origin rules.
    const onApiPort = await scrape(dev.url);
    expect(onApiPort.value('wf_workflow_started_total', wt('orderWorkflow'))).toBe(2);
    const forged = await rawRequest(dev.url, { path: '/metrics', headers: { Host: 'evil.example:80' } });
    expect(forged.status).toBe(403);
    const foreignPage = await rawRequest(metricsUrl, {
      path: '/metrics',
      headers: { Origin: 'http://evil.example' },
    });
    expect(foreignPage.status).toBe(403);
    const apiOnMetricsPort = await rawRequest(metricsUrl, { path: '/api/v1/health' });
    expect(apiOnMetricsPort.status).toBe(404);
    expect(JSON.stringify(apiOnMetricsPort.body)).toContain('metrics port');
    expect(m.text).not.toContain('parked-1');

    // A restart: the parked runs are rebuilt by replay. Their starts and histories are not counted again.
    await dev.kill('SIGTERM');
    const again = await spawnDev(project, { args: ['--no-watch'] });
    const client2 = connect({ address: again.url });
    try {
      for (const id of ['parked-1', 'parked-2']) {
        await client2.getHandle(id).signal('release');
        expect(await client2.getHandle(id).result()).toBe('released');
      }
    } finally {
      await client2.close();
    }
    const after = await scrape(again.url);
    expect(after.value('wf_workflow_started_total', wt('parked'))).toBe(0);
    expect(after.value('wf_workflow_started_total', wt('orderWorkflow'))).toBe(0);
    expect(after.count('wf_workflow_replay_duration_seconds', wt('parked'))).toBeGreaterThanOrEqual(2);
    expect(after.value('wf_workflow_signals_total', wt('parked'))).toBe(2);
    expect(after.value('wf_workflow_completed_total', wt('parked'))).toBe(2);
    expect(after.value('wf_activity_attempts_total', at('flaky'))).toBe(0);
    expect(after.value('wf_workflow_runs_open')).toBe(0);
  });
});
