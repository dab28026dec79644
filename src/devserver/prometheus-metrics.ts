import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type {
  ActivityAttemptOutcome,
  ClosedRunOutcome,
  EngineGauges,
  EngineMetrics,
  PauseReason,
} from '../runtime/engine/index.js';

/** What `GET /metrics` serves: the text and its content type. */
export interface MetricsEndpoint {
  readonly contentType: string;
  render(): Promise<string>;
}

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const ACTIVATION_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const APPEND_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const HISTORY_LENGTH_BUCKETS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000];

type WorkflowLabel = 'workflow_type';
type ActivityLabel = 'activity_type';

/**
 * The engine's metrics in prom-client, in a registry of their own (with Node's process metrics:
 * CPU, heap, event-loop lag): `wf_` names, units in the names, labels bounded to types and
 * outcomes. See docs/observability.md for the list.
 */
export class PrometheusMetrics implements EngineMetrics, MetricsEndpoint {
  readonly registry = new Registry();
  private gaugesOf: () => EngineGauges | undefined = () => undefined;

  private readonly started = this.workflowCounter('wf_workflow_started_total', 'Workflow runs started.');
  private readonly closed: Record<ClosedRunOutcome, Counter<WorkflowLabel>> = {
    completed: this.workflowCounter('wf_workflow_completed_total', 'Workflow runs completed.'),
    failed: this.workflowCounter('wf_workflow_failed_total', 'Workflow runs failed.'),
    canceled: this.workflowCounter('wf_workflow_canceled_total', 'Workflow runs canceled.'),
    terminated: this.workflowCounter('wf_workflow_terminated_total', 'Workflow runs terminated.'),
    timed_out: this.workflowCounter('wf_workflow_timed_out_total', 'Workflow runs timed out (run timeout).'),
    continued_as_new: this.workflowCounter(
      'wf_workflow_continued_as_new_total',
      'Workflow runs that continued as new (each continuation also counts in wf_workflow_started_total).',
    ),
  };
  private readonly historyLength = new Histogram<WorkflowLabel>({
    name: 'wf_workflow_history_length_events',
    help: 'Events in the history of each closed run.',
    labelNames: ['workflow_type'],
    buckets: HISTORY_LENGTH_BUCKETS,
    registers: [this.registry],
  });
  private readonly activation = new Histogram<WorkflowLabel>({
    name: 'wf_workflow_activation_duration_seconds',
    help: 'Time the workflow code took to handle new work (one activation, replay excluded).',
    labelNames: ['workflow_type'],
    buckets: ACTIVATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly replay = new Histogram<WorkflowLabel>({
    name: 'wf_workflow_replay_duration_seconds',
    help: 'Time to rebuild a run from its history (a cache miss: after an eviction, a restart or a reload).',
    labelNames: ['workflow_type'],
    buckets: ACTIVATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly evictions = this.workflowCounter(
    'wf_workflow_cache_evictions_total',
    'Runs whose executor was dropped from memory (past --max-cached-runs).',
  );
  private readonly pauses = new Counter<WorkflowLabel | 'reason'>({
    name: 'wf_workflow_pauses_total',
    help: 'Runs paused: reason nondeterminism (the code no longer replays the history), deadlock, or store.',
    labelNames: ['workflow_type', 'reason'],
    registers: [this.registry],
  });
  private readonly signals = this.workflowCounter('wf_workflow_signals_total', 'Signals recorded.');
  private readonly updates = new Counter<WorkflowLabel | 'status'>({
    name: 'wf_workflow_updates_total',
    help: 'Updates handled: status completed, failed or rejected (by the validator).',
    labelNames: ['workflow_type', 'status'],
    registers: [this.registry],
  });
  private readonly queries = new Counter<WorkflowLabel | 'status'>({
    name: 'wf_workflow_queries_total',
    help: 'Queries answered by this process: status answered or failed.',
    labelNames: ['workflow_type', 'status'],
    registers: [this.registry],
  });
  private readonly timersStarted = this.workflowCounter('wf_timers_started_total', 'Durable timers started.');
  private readonly timersFired = this.workflowCounter('wf_timers_fired_total', 'Durable timers fired.');
  private readonly scheduled = this.activityCounter('wf_activity_scheduled_total', 'Activities scheduled.');
  private readonly attempts = this.activityCounter(
    'wf_activity_attempts_total',
    'Activity attempts started (retries included).',
  );
  private readonly completed = this.activityCounter(
    'wf_activity_completed_total',
    'Activity attempts completed.',
  );
  private readonly failures = new Counter<ActivityLabel | 'status'>({
    name: 'wf_activity_failures_total',
    help: 'Activity attempts that failed (status failed) or timed out (status timed_out), retried or final.',
    labelNames: ['activity_type', 'status'],
    registers: [this.registry],
  });
  private readonly retries = this.activityCounter(
    'wf_activity_retries_total',
    'Failed or timed-out activity attempts followed by another attempt.',
  );
  private readonly canceled = this.activityCounter('wf_activity_canceled_total', 'Activities canceled.');
  private readonly scheduleToStart = new Histogram<ActivityLabel>({
    name: 'wf_activity_schedule_to_start_seconds',
    help: 'Time from when an attempt was due (scheduled, or its retry time) to when it started.',
    labelNames: ['activity_type'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly execution = new Histogram<ActivityLabel>({
    name: 'wf_activity_execution_duration_seconds',
    help: 'Time each activity attempt ran in this process, until its outcome.',
    labelNames: ['activity_type'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly appendDuration = new Histogram({
    name: 'wf_store_append_duration_seconds',
    help: 'Time of each durable append to the history store (fsync or commit included).',
    buckets: APPEND_BUCKETS,
    registers: [this.registry],
  });
  private readonly appendedEvents = new Counter({
    name: 'wf_store_appended_events_total',
    help: 'History events written to the store.',
    registers: [this.registry],
  });
  private readonly appendedBytes = new Counter({
    name: 'wf_store_appended_bytes_total',
    help: 'Bytes of history events written to the store (their JSON records).',
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.gauge('wf_workflow_runs_open', 'Open runs this process holds.', (g) => g.openRuns);
    this.gauge(
      'wf_workflow_runs_paused',
      'Open runs paused (see wf_workflow_pauses_total).',
      (g) => g.pausedRuns,
    );
    this.gauge('wf_workflow_runs_cached', 'Open runs whose executor is in memory.', (g) => g.cachedRuns);
    this.gauge(
      'wf_workflow_runs_evicted',
      'Open runs whose executor was evicted (rebuilt by replay when they wake).',
      (g) => g.openRuns - g.cachedRuns,
    );
    this.gauge('wf_timers_pending', 'Durable timers armed in this process.', (g) => g.pendingTimers);
    this.gauge(
      'wf_activity_attempts_running',
      'Activity attempts running in this process (or waiting for async completion).',
      (g) => g.runningActivities,
    );
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Where the gauges (open, paused, cached runs, pending timers...) are read at each scrape. */
  observe(gauges: () => EngineGauges): void {
    this.gaugesOf = gauges;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  workflowStarted(workflowType: string): void {
    this.started.inc({ workflow_type: workflowType });
  }

  workflowClosed(workflowType: string, outcome: ClosedRunOutcome, historyLength: number): void {
    this.closed[outcome].inc({ workflow_type: workflowType });
    this.historyLength.observe({ workflow_type: workflowType }, historyLength);
  }

  workflowActivated(workflowType: string, seconds: number): void {
    this.activation.observe({ workflow_type: workflowType }, seconds);
  }

  workflowReplayed(workflowType: string, seconds: number): void {
    this.replay.observe({ workflow_type: workflowType }, seconds);
  }

  workflowEvicted(workflowType: string): void {
    this.evictions.inc({ workflow_type: workflowType });
  }

  workflowPaused(workflowType: string, reason: PauseReason): void {
    this.pauses.inc({ workflow_type: workflowType, reason });
  }

  signalReceived(workflowType: string): void {
    this.signals.inc({ workflow_type: workflowType });
  }

  updateHandled(workflowType: string, outcome: 'completed' | 'failed' | 'rejected'): void {
    this.updates.inc({ workflow_type: workflowType, status: outcome });
  }

  queryHandled(workflowType: string, outcome: 'answered' | 'failed'): void {
    this.queries.inc({ workflow_type: workflowType, status: outcome });
  }

  timerStarted(workflowType: string): void {
    this.timersStarted.inc({ workflow_type: workflowType });
  }

  timerFired(workflowType: string): void {
    this.timersFired.inc({ workflow_type: workflowType });
  }

  activityScheduled(activityType: string): void {
    this.scheduled.inc({ activity_type: activityType });
  }

  activityAttemptStarted(activityType: string): void {
    this.attempts.inc({ activity_type: activityType });
  }

  activityAttemptRecorded(activityType: string, outcome: ActivityAttemptOutcome, retrying: boolean): void {
    const labels = { activity_type: activityType };
    if (outcome === 'completed') this.completed.inc(labels);
    else if (outcome === 'canceled') this.canceled.inc(labels);
    else {
      this.failures.inc({ ...labels, status: outcome });
      if (retrying) this.retries.inc(labels);
    }
  }

  activityAttemptTimed(activityType: string, scheduleToStartSeconds: number, executionSeconds: number): void {
    const labels = { activity_type: activityType };
    this.scheduleToStart.observe(labels, scheduleToStartSeconds);
    this.execution.observe(labels, executionSeconds);
  }

  storeAppended(seconds: number, events: number, bytes: number): void {
    this.appendDuration.observe(seconds);
    this.appendedEvents.inc(events);
    this.appendedBytes.inc(bytes);
  }

  private workflowCounter(name: string, help: string): Counter<WorkflowLabel> {
    return new Counter({ name, help, labelNames: ['workflow_type'], registers: [this.registry] });
  }

  private activityCounter(name: string, help: string): Counter<ActivityLabel> {
    return new Counter({ name, help, labelNames: ['activity_type'], registers: [this.registry] });
  }

  private gauge(name: string, help: string, read: (gauges: EngineGauges) => number): void {
    const gaugesOf = () => this.gaugesOf();
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        const gauges = gaugesOf();
        if (gauges) this.set(read(gauges));
      },
    });
  }
}
