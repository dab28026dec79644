import type { ActivityTaskScheduled, TraceHeader, WorkflowExecutionStarted } from '../../history/events.js';
import type { ActivityTask, SharedHistoryStore } from '../../history/shared-store.js';
import { CancelledFailure } from '../../workflow/failures.js';
import { AttemptRun } from './activity-dispatcher.js';
import type { EngineKernel } from './kernel.js';
import { newRunEntry, type RunEntry } from './run-entry.js';

/** What a run's holder puts in an activity task: enough for any server to run the attempt. */
export interface ActivityTaskBody {
  scheduled: ActivityTaskScheduled;
  workflowType: string;
  /** When this attempt was due (its retry time, or the schedule time for the first). */
  attemptScheduledAt: number;
  heartbeatDetails?: unknown;
  /** The run's trace context (its WorkflowExecutionStarted's header), for the attempt's log lines. */
  header?: TraceHeader;
}

/**
 * Runs activity attempts offered by any server sharing the store: claims them (SKIP LOCKED) while
 * it has free slots, keeps a lease on each while it runs (renewed, so a runner that dies hands the
 * attempt to another server), aborts one that was cancelled or taken over, and sends each outcome
 * to its run's inbox, where the run's holder records it. A slow activity so never pins its
 * workflow's server: whichever server has room runs it.
 */
export class ActivityWorker {
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private claiming: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly kernel: EngineKernel,
    private readonly store: SharedHistoryStore,
    private readonly owner: string,
    private readonly leaseMs: number,
    private readonly pollMs: number,
    private readonly maxConcurrent: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), this.pollMs);
    this.timer.unref();
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** Looks for attempts to run now (after offering one, or on a poll). */
  kick(): void {
    if (this.stopped || this.kernel.stopped) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.claiming = this.claim()
      .catch((error: unknown) =>
        this.kernel.logger.warn(`claiming activity tasks: ${(error as Error).message}`),
      )
      .finally(() => {
        this.claiming = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async claim(): Promise<void> {
    const free = this.maxConcurrent - this.running;
    if (free <= 0) return;
    const tasks = await this.store.claimActivityTasks(this.owner, { limit: free, leaseMs: this.leaseMs });
    for (const task of tasks) this.run(task);
  }

  private run(task: ActivityTask): void {
    const body = task.task as ActivityTaskBody;
    const entry: RunEntry = newRunEntry({
      type: 'WorkflowExecutionStarted',
      eventId: 1,
      eventTime: body.scheduled.eventTime,
      workflowType: body.workflowType,
      workflowId: task.key.workflowId,
      runId: task.key.runId,
      firstRunId: task.key.runId,
      args: [],
      randomnessSeed: '',
      attempt: 1,
      formatVersion: 1,
      ...(body.header ? { header: body.header } : {}),
    } satisfies WorkflowExecutionStarted);
    this.kernel.tracing?.knowRun(entry.started);
    // Sent with the outcome: the holder's RunActivity span starts here (tracing.ts).
    const attemptStartedAt = this.kernel.clock.now();
    const heartbeatDetails = task.heartbeatDetails ?? body.heartbeatDetails;
    if (heartbeatDetails !== undefined) entry.heartbeats.set(task.seq, heartbeatDetails);
    this.running++;
    let lost = false;
    const renew = setInterval(
      () => {
        // The last heartbeat details go with the renewal: a re-run elsewhere starts from them.
        void this.store
          .renewActivityTask(task.id, this.owner, this.leaseMs, entry.heartbeats.get(task.seq))
          .then(
            ({ held, cancelRequested }) => {
              const attempt = entry.attempts.get(task.seq);
              if (!held) {
                lost = true;
                attempt?.controller.abort(new CancelledFailure('another server runs this attempt now'));
              } else if (cancelRequested) {
                attempt?.controller.abort(new CancelledFailure('activity cancelled by the workflow'));
              }
            },
            (error: unknown) =>
              this.kernel.logger.warn(`renewing an activity task: ${(error as Error).message}`),
          );
      },
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    renew.unref();
    new AttemptRun(this.kernel, entry, body.scheduled, task.attempt, body.attemptScheduledAt, {
      started: () => undefined,
      sleeping: () => undefined,
      release: () => {
        this.running--;
        this.kick();
      },
      outcome: (work) => {
        clearInterval(renew);
        if (lost) return;
        const heartbeatDetails = entry.heartbeats.get(task.seq);
        void this.store
          .finishActivityTask(task.id, this.owner, {
            kind: 'activity-outcome',
            attemptStartedAt,
            ...(work.info ? { info: work.info } : {}),
            ...(work.input ? { input: work.input } : {}),
            ...(heartbeatDetails === undefined ? {} : { heartbeatDetails }),
          })
          .catch((error: unknown) =>
            this.kernel.logger.warn(
              `recording the outcome of activity ${body.scheduled.activityType}: ${(error as Error).message} (another server will run it again)`,
            ),
          );
      },
    }).start(false);
  }
}
