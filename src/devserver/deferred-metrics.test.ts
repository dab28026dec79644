import { describe, expect, it } from 'vitest';
import { DeferredMetrics } from './deferred-metrics.js';
import { PrometheusMetrics } from './prometheus-metrics.js';

const gauges = () => ({ openRuns: 3, pausedRuns: 1, cachedRuns: 2, pendingTimers: 0, runningActivities: 0 });

describe('DeferredMetrics', () => {
  it('keeps what the engine reported before prom-client loaded, and serves it at the first scrape', async () => {
    const metrics = new DeferredMetrics();
    metrics.observe(gauges);
    metrics.workflowStarted('order');
    metrics.workflowStarted('order');
    metrics.activityAttemptRecorded('charge', 'failed', true);
    metrics.storeAppended(0.0004, 3, 512);
    const text = await metrics.render();
    expect(text).toContain('wf_workflow_started_total{workflow_type="order"} 2');
    expect(text).toContain('wf_activity_retries_total{activity_type="charge"} 1');
    expect(text).toContain('wf_store_appended_events_total 3');
    expect(text).toContain('wf_workflow_runs_open 3');
  });

  it('drops reports and answers scrapes with the reason when prom-client cannot be set up', async () => {
    const metrics = new DeferredMetrics(() => Promise.reject(new Error('Cannot find module prom-client')));
    metrics.workflowStarted('order');
    await expect(metrics.load()).rejects.toThrow(
      'the Prometheus metrics could not be set up: Cannot find module prom-client',
    );
    metrics.workflowStarted('order'); // dropped, not kept for ever
    await expect(metrics.render()).rejects.toThrow(/could not be set up/);
  });

  it('reports straight through once loaded, with prom-client’s content type', async () => {
    const metrics = new DeferredMetrics();
    const loaded = await metrics.load();
    expect(await metrics.load()).toBe(loaded);
    metrics.workflowClosed('order', 'completed', 12);
    expect(await loaded.render()).toContain('wf_workflow_completed_total{workflow_type="order"} 1');
    expect(metrics.contentType).toBe(new PrometheusMetrics({ defaultMetrics: false }).contentType);
  });
});
