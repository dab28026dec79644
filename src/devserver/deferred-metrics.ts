import type {
  ActivityAttemptOutcome,
  ClosedRunOutcome,
  EngineGauges,
  EngineMetrics,
  PauseReason,
} from '../runtime/engine/index.js';
import type { MetricsEndpoint, PrometheusMetrics } from './prometheus-metrics.js';

/** Prometheus' text format, as prom-client serves it (known before prom-client is loaded). */
const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * The engine's metrics while prom-client loads: loading it takes about a tenth of the server's
 * start-up, so the server answers first and loads it after (`load()`). What the engine reports
 * meanwhile is kept in order and handed over; a scrape before then waits for it.
 */
export class DeferredMetrics implements EngineMetrics, MetricsEndpoint {
  readonly contentType = PROMETHEUS_CONTENT_TYPE;
  private target: PrometheusMetrics | undefined;
  private waiting: ((metrics: PrometheusMetrics) => void)[] = [];
  private loading: Promise<PrometheusMetrics> | undefined;
  private failed = false;
  private gauges: (() => EngineGauges) | undefined;

  constructor(
    private readonly make: () => Promise<PrometheusMetrics> = async () =>
      new (await import('./prometheus-metrics.js')).PrometheusMetrics(),
  ) {}

  /**
   * Loads prom-client (once) and replays what was reported until then. If that fails, reports are
   * dropped from then on and every scrape answers with the reason.
   */
  load(): Promise<PrometheusMetrics> {
    this.loading ??= this.make().then(
      (metrics) => {
        if (this.gauges) metrics.observe(this.gauges);
        for (const report of this.waiting) report(metrics);
        this.waiting = [];
        this.target = metrics;
        return metrics;
      },
      (error: unknown) => {
        this.failed = true;
        this.waiting = [];
        throw new Error(`the Prometheus metrics could not be set up: ${(error as Error).message}`, {
          cause: error,
        });
      },
    );
    return this.loading;
  }

  /** Where the gauges (open, paused, cached runs…) are read at each scrape. */
  observe(gauges: () => EngineGauges): void {
    this.gauges = gauges;
    this.target?.observe(gauges);
  }

  async render(): Promise<string> {
    return (await this.load()).render();
  }

  private report(fn: (metrics: PrometheusMetrics) => void): void {
    if (this.target) fn(this.target);
    else if (!this.failed) this.waiting.push(fn);
  }

  workflowStarted(workflowType: string): void {
    this.report((m) => m.workflowStarted(workflowType));
  }

  workflowClosed(workflowType: string, outcome: ClosedRunOutcome, historyLength: number): void {
    this.report((m) => m.workflowClosed(workflowType, outcome, historyLength));
  }

  workflowActivated(workflowType: string, seconds: number): void {
    this.report((m) => m.workflowActivated(workflowType, seconds));
  }

  workflowReplayed(workflowType: string, seconds: number): void {
    this.report((m) => m.workflowReplayed(workflowType, seconds));
  }

  workflowEvicted(workflowType: string): void {
    this.report((m) => m.workflowEvicted(workflowType));
  }

  workflowPaused(workflowType: string, reason: PauseReason): void {
    this.report((m) => m.workflowPaused(workflowType, reason));
  }

  signalReceived(workflowType: string): void {
    this.report((m) => m.signalReceived(workflowType));
  }

  updateHandled(workflowType: string, outcome: 'completed' | 'failed' | 'rejected'): void {
    this.report((m) => m.updateHandled(workflowType, outcome));
  }

  queryHandled(workflowType: string, outcome: 'answered' | 'failed'): void {
    this.report((m) => m.queryHandled(workflowType, outcome));
  }

  timerStarted(workflowType: string): void {
    this.report((m) => m.timerStarted(workflowType));
  }

  timerFired(workflowType: string): void {
    this.report((m) => m.timerFired(workflowType));
  }

  activityScheduled(activityType: string): void {
    this.report((m) => m.activityScheduled(activityType));
  }

  activityAttemptStarted(activityType: string): void {
    this.report((m) => m.activityAttemptStarted(activityType));
  }

  activityAttemptRecorded(activityType: string, outcome: ActivityAttemptOutcome, retrying: boolean): void {
    this.report((m) => m.activityAttemptRecorded(activityType, outcome, retrying));
  }

  activityAttemptTimed(activityType: string, scheduleToStartSeconds: number, executionSeconds: number): void {
    this.report((m) => m.activityAttemptTimed(activityType, scheduleToStartSeconds, executionSeconds));
  }

  storeAppended(seconds: number, events: number, bytes: number): void {
    this.report((m) => m.storeAppended(seconds, events, bytes));
  }
}
