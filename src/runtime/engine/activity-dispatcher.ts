import { CompleteAsyncError } from '../../activity/complete-async.js';
import { Context } from '../../activity/context.js';
import type { Info } from '../../activity/info.js';
import { encodeTaskToken, taskTokenBase64 } from '../../activity/task-token.js';
import type { ActivityTaskScheduled, FailureInfo, NewEvent, TimeoutType } from '../../history/events.js';
import { CancelledFailure, errorToFailure, TimeoutFailure } from '../../workflow/failures.js';
import { attemptDeadline, retryDelay, toRecordable } from '../activity-runner.js';
import type { EngineKernel } from './kernel.js';
import { LazyAbortController } from './lazy-abort.js';
import type { Mailbox } from './mailbox.js';
import type { ActivityAttempt, RunEntry } from './run-entry.js';
import type { Work } from './types.js';

/**
 * Runs activity attempts: a bounded number at once, with their retry policy, timeouts
 * (start-to-close, schedule-to-close, heartbeat) and cancellation. Each attempt's outcome goes to
 * the run's mailbox; nothing here touches the history directly.
 */
/** Where attempts run when the store is shared: offered as tasks that any server may take. */
export interface RemoteActivities {
  offer(entry: RunEntry, seq: number, attempt: number, scheduled: ActivityTaskScheduled): void;
  /** Cancels the attempt wherever it is: `true` when it never started (record the cancellation now). */
  cancel(entry: RunEntry, seq: number): Promise<boolean>;
}

export class ActivityDispatcher {
  /** Set on a shared store: attempts go to every server instead of running here. */
  remote: RemoteActivities | undefined;
  private running = 0;
  private working = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly kernel: EngineKernel,
    private readonly mailbox: Mailbox,
    private readonly maxConcurrent: number,
  ) {}

  /** Attempts doing real work (not sleeping in `Context.sleep`), plus attempts waiting for a slot. */
  activeAttempts(): number {
    return this.working + this.queue.length;
  }

  /** Starts (or schedules the retry of) the activity `seq` unless an attempt is under way. */
  schedule(entry: RunEntry, seq: number): void {
    if (this.kernel.stopped) return;
    const pending = entry.executor?.activities.get(seq);
    if (!pending || pending.cancelRequested || entry.attempts.get(seq)?.finished === false) return;
    const begin = () => {
      entry.retryTimers.delete(seq);
      const current = entry.executor?.activities.get(seq);
      // An attempt waiting for async completion waits where the run is held, whoever ran it.
      if (this.remote && !current?.asyncCompletion) {
        if (current && !current.cancelRequested)
          this.remote.offer(entry, seq, current.attempt, current.scheduled);
        return;
      }
      this.acquireSlot(() => this.runAttempt(entry, seq));
    };
    if (pending.retryAt !== undefined && pending.retryAt > this.kernel.clock.now()) {
      entry.retryTimers.get(seq)?.cancel();
      entry.retryTimers.set(seq, this.kernel.clock.setTimer(pending.retryAt, begin));
    } else begin();
  }

  /** The workflow cancelled the activity: stop the attempt, or acknowledge at once if none runs. */
  cancel(entry: RunEntry, seq: number): void {
    const retry = entry.retryTimers.get(seq);
    if (retry) {
      retry.cancel();
      entry.retryTimers.delete(seq);
      this.mailbox.enqueue(entry, cancelledWork(entry, seq));
      return;
    }
    if (this.remote) {
      void this.remote.cancel(entry, seq).then(
        (neverStarted) => {
          if (neverStarted) this.mailbox.enqueue(entry, cancelledWork(entry, seq));
        },
        (error: unknown) =>
          this.kernel.logger.warn(`cancelling activity ${seq}: ${(error as Error).message}`),
      );
      return;
    }
    const attempt = entry.attempts.get(seq);
    if (attempt && !attempt.finished)
      attempt.controller.abort(new CancelledFailure('activity cancelled by the workflow'));
  }

  /** Re-arms the run's activities after a recovery or reload. */
  resume(entry: RunEntry): void {
    for (const [seq, pending] of entry.executor?.activities ?? []) {
      if (!pending.cancelRequested) this.schedule(entry, seq);
      else if (this.remote) this.cancel(entry, seq);
      else if (entry.attempts.get(seq)?.finished !== false && !entry.retryTimers.has(seq)) {
        // Cancelled while nothing ran it (or before a restart): acknowledge the cancellation.
        this.mailbox.enqueue(entry, cancelledWork(entry, seq));
      }
    }
  }

  /** The run closed: on a shared store, its attempts offered to other servers are withdrawn. */
  closeRun(entry: RunEntry): void {
    if (!this.remote) return;
    for (const seq of entry.executor?.activities.keys() ?? []) {
      void this.remote.cancel(entry, seq).catch(() => undefined);
    }
  }

  /** The run closed or the engine stops: abort attempts and drop retries. */
  stop(entry: RunEntry): void {
    for (const timer of entry.retryTimers.values()) timer.cancel();
    entry.retryTimers.clear();
    for (const attempt of entry.attempts.values()) {
      if (!attempt.finished) attempt.controller.abort(new CancelledFailure('the workflow closed'));
    }
  }

  private acquireSlot(fn: () => void): void {
    if (this.running < this.maxConcurrent) {
      this.running++;
      fn();
    } else this.queue.push(fn);
  }

  private releaseSlot(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.running--;
    this.kernel.notifyIdle();
  }

  private runAttempt(entry: RunEntry, seq: number): void {
    if (!entry.executor && !entry.closed && !this.kernel.stopped) {
      // Evicted while waiting to retry: rebuild it, then start the attempt.
      this.working++;
      void this.mailbox
        .withRun(entry, () => this.mailbox.load(entry))
        .then(
          () => undefined,
          (error: unknown) => this.mailbox.pause(entry, error as Error),
        )
        .finally(() => {
          this.working--;
          if (entry.paused) this.releaseSlot();
          else this.runAttempt(entry, seq);
        });
      return;
    }
    const pending = entry.executor?.activities.get(seq);
    if (!pending || entry.closed || this.kernel.stopped) {
      this.releaseSlot();
      return;
    }
    const attemptScheduledAt = pending.retryAt ?? Date.parse(pending.scheduled.eventTime);
    const run = new AttemptRun(this.kernel, entry, pending.scheduled, pending.attempt, attemptScheduledAt, {
      started: () => this.working++,
      sleeping: (delta) => {
        this.working -= delta;
        this.kernel.notifyIdle();
      },
      release: (stillWorking) => {
        if (stillWorking) this.working--;
        this.releaseSlot();
      },
      outcome: (work) => {
        if (!entry.closed && !this.kernel.stopped) this.mailbox.enqueue(entry, work);
        else work.done?.(new Error('the workflow closed'));
      },
    });
    if (pending.asyncCompletion) run.resumeAwaiting(pending.asyncCompletion.startedAt);
    else run.start(pending.cancelRequested);
  }
}

export interface AttemptHooks {
  started(): void;
  /** +1 when the attempt starts sleeping in `Context.sleep`, -1 when it wakes. */
  sleeping(delta: 1 | -1): void;
  /** The attempt gives back its slot: it finished, or it waits to be completed by its task token. */
  release(stillWorking: boolean): void;
  /** The work that records the attempt's outcome. */
  outcome(work: Work): void;
}

/** One attempt of one activity, from start to the work that records its outcome. */
export class AttemptRun {
  private readonly attempt: ActivityAttempt;
  private readonly startedEvent: NewEvent;
  private readonly scheduleToCloseDeadline: number | undefined;
  private released = false;
  /** True once ActivityTaskStarted is in the history (an attempt waiting for async completion). */
  private startedRecorded = false;
  /** When this process started the attempt (performance.now()), for its execution latency; unset when resumed. */
  private startedAt: number | undefined;
  private scheduleToStartSeconds = 0;

  constructor(
    private readonly kernel: EngineKernel,
    private readonly entry: RunEntry,
    private readonly scheduled: ActivityTaskScheduled,
    private readonly attemptNo: number,
    private readonly attemptScheduledAt: number,
    private readonly hooks: AttemptHooks,
  ) {
    const { seq } = scheduled;
    this.attempt = {
      seq,
      attempt: attemptNo,
      controller: new LazyAbortController(),
      finished: false,
      sleeping: 0,
    };
    this.startedEvent = { type: 'ActivityTaskStarted', seq, attempt: attemptNo };
    const timeout = scheduled.options.scheduleToCloseTimeoutMs;
    this.scheduleToCloseDeadline =
      timeout === undefined ? undefined : Date.parse(scheduled.eventTime) + timeout;
  }

  start(cancelRequested: boolean): void {
    const { seq, options } = this.scheduled;
    this.entry.attempts.set(seq, this.attempt);
    this.hooks.started();
    this.startedAt = performance.now();
    this.kernel.tracing?.attemptStarted(this.entry.key.runId, seq, this.attemptNo, this.kernel.clock.now());
    this.scheduleToStartSeconds = Math.max(0, this.kernel.clock.now() - this.attemptScheduledAt) / 1000;
    const deadline = attemptDeadline(options, this.kernel.clock.now(), Date.parse(this.scheduled.eventTime));
    if (deadline) {
      this.attempt.deadlineTimer = this.kernel.clock.setTimer(deadline.at, () =>
        this.timedOut(deadline.type),
      );
    }
    this.armHeartbeat();
    if (cancelRequested) {
      this.finish(cancelledWork(this.entry, seq, this.attemptNo));
      return;
    }
    const fn = this.kernel.activities[this.scheduled.activityType];
    if (typeof fn !== 'function') {
      this.fail(notRegistered(this.scheduled.activityType, Object.keys(this.kernel.activities)), false);
      return;
    }
    let promise: Promise<unknown>;
    try {
      promise = Promise.resolve(this.context().run(() => fn(...(this.scheduled.args as unknown[]))));
    } catch (error) {
      this.onError(error);
      return;
    }
    promise.then(
      (value) => this.onResult(value),
      (error: unknown) => this.onError(error),
    );
  }

  /** The ActivityTaskStarted to record with the attempt's outcome, unless it was recorded already. */
  private started(): NewEvent[] {
    return this.startedRecorded ? [] : [this.startedEvent];
  }

  /**
   * Takes up again an attempt that was waiting for async completion before a restart (its
   * ActivityTaskStarted says so): the activity does not run again; the attempt waits for its token,
   * its start-to-close deadline counted from when it started.
   */
  resumeAwaiting(startedAt: number): void {
    const { seq, options } = this.scheduled;
    this.entry.attempts.set(seq, this.attempt);
    this.hooks.started();
    const deadline = attemptDeadline(options, startedAt, Date.parse(this.scheduled.eventTime));
    if (deadline) {
      this.attempt.deadlineTimer = this.kernel.clock.setTimer(deadline.at, () =>
        this.timedOut(deadline.type),
      );
    }
    this.armHeartbeat();
    this.startedRecorded = true;
    this.awaitCompletion();
  }

  private context(): Context {
    const { attempt } = this;
    // The info is made when first read; the heartbeat details it gives are the previous attempt's.
    const heartbeatDetails = this.entry.heartbeats.get(this.scheduled.seq);
    return new Context(
      () => this.info(heartbeatDetails),
      () => attempt.controller.signal,
      {
        heartbeat: (details) => this.heartbeat(details),
        sleep: (ms, signal) => this.sleep(ms, signal),
        log: (record) => this.kernel.activityLog(record),
      },
    );
  }

  /** Temporal's activity Info for this attempt, with wf's own fields. */
  private info(heartbeatDetails: unknown): Info {
    const { entry, scheduled, attemptNo } = this;
    const { options } = scheduled;
    const { workflowId, runId } = entry.key;
    // The token is made when first read: few activities complete asynchronously.
    let taskToken: Uint8Array | undefined;
    const tokenOf = () => {
      taskToken ??= encodeTaskToken({
        workflowId,
        runId,
        activityId: scheduled.activityId,
        seq: scheduled.seq,
        attempt: attemptNo,
      });
      return taskToken;
    };
    const scheduledAt = Date.parse(scheduled.eventTime);
    const retry = options.retry;
    return {
      get taskToken() {
        return tokenOf();
      },
      get base64TaskToken() {
        return taskTokenBase64(tokenOf());
      },
      activityId: scheduled.activityId,
      activityType: scheduled.activityType,
      attempt: attemptNo,
      isLocal: false,
      workflowExecution: { workflowId, runId },
      workflowType: entry.workflowType,
      namespace: 'default',
      activityNamespace: 'default',
      workflowNamespace: 'default',
      taskQueue: 'default',
      inWorkflow: true,
      scheduledTimestampMs: scheduledAt,
      currentAttemptScheduledTimestampMs: this.attemptScheduledAt,
      scheduleToCloseTimeoutMs: options.scheduleToCloseTimeoutMs ?? 0,
      startToCloseTimeoutMs: options.startToCloseTimeoutMs ?? options.scheduleToCloseTimeoutMs ?? 0,
      ...(options.heartbeatTimeoutMs === undefined ? {} : { heartbeatTimeoutMs: options.heartbeatTimeoutMs }),
      heartbeatDetails,
      retryPolicy: {
        initialInterval: retry.initialIntervalMs,
        backoffCoefficient: retry.backoffCoefficient,
        maximumInterval: retry.maximumIntervalMs,
        maximumAttempts: retry.maximumAttempts,
        nonRetryableErrorTypes: [...retry.nonRetryableErrorTypes],
      },
      workflowId,
      runId,
      idempotencyKey: `${workflowId}/${runId}/${scheduled.activityId}`,
      scheduledTime: new Date(scheduledAt),
    };
  }

  private heartbeat(details: unknown): void {
    if (this.attempt.finished) return;
    if (details !== undefined) this.entry.heartbeats.set(this.scheduled.seq, details);
    this.armHeartbeat();
  }

  private armHeartbeat(): void {
    const timeout = this.scheduled.options.heartbeatTimeoutMs;
    if (timeout === undefined) return;
    this.attempt.heartbeatTimer?.cancel();
    this.attempt.heartbeatTimer = this.kernel.clock.setTimer(this.kernel.clock.now() + timeout, () =>
      this.timedOut('HEARTBEAT'),
    );
  }

  private cancelledByWorkflow(): boolean {
    const { controller } = this.attempt;
    return controller.aborted && controller.reason instanceof CancelledFailure;
  }

  private onResult(value: unknown): void {
    if (this.attempt.finished) return;
    const { seq } = this.scheduled;
    if (this.cancelledByWorkflow() && !waitsForCancellation(this.scheduled)) {
      this.finish({ info: [...this.started(), { type: 'ActivityTaskCanceled', seq }] });
      return;
    }
    const recordable = toRecordable(value);
    if (!recordable.ok) {
      this.onError(Object.assign(new Error(recordable.failure.message), { name: 'NonSerializableResult' }));
      return;
    }
    this.finish({
      info: this.started(),
      input: { type: 'ActivityTaskCompleted', seq, attempt: this.attemptNo, result: recordable.value },
    });
  }

  private onError(error: unknown): void {
    if (this.attempt.finished) return;
    if (error instanceof CompleteAsyncError && !this.attempt.controller.aborted) {
      this.awaitCompletion();
      return;
    }
    if (this.cancelledByWorkflow()) {
      const cancelled = cancelledWork(this.entry, this.scheduled.seq, this.attemptNo);
      this.finish({ ...cancelled, info: [...this.started(), ...(cancelled.info ?? [])] });
      return;
    }
    this.fail(errorToFailure(error), true);
  }

  private timedOut(timeoutType: TimeoutType): void {
    if (this.attempt.finished) return;
    this.attempt.controller.abort(
      new TimeoutFailure(`activity ${this.scheduled.activityType} timed out (${timeoutType})`, timeoutType),
    );
    const delay = this.retryDelay({ timeoutType });
    this.finishAttempt(
      {
        type: 'ActivityTaskTimedOut',
        seq: this.scheduled.seq,
        attempt: this.attemptNo,
        timeoutType,
        ...(delay === undefined ? {} : { nextRetryDelayMs: delay }),
      },
      delay,
    );
  }

  /** Records a failed attempt: retried per the policy when `retryable`, final otherwise. */
  private fail(failure: FailureInfo, retryable: boolean): void {
    const delay = retryable ? this.retryDelay({ failure }) : undefined;
    this.finishAttempt(
      {
        type: 'ActivityTaskFailed',
        seq: this.scheduled.seq,
        attempt: this.attemptNo,
        failure,
        ...(delay === undefined ? {} : { nextRetryDelayMs: delay }),
      },
      delay,
    );
  }

  private retryDelay(cause: { failure?: FailureInfo; timeoutType?: TimeoutType }): number | undefined {
    return retryDelay({
      policy: this.scheduled.options.retry,
      attempt: this.attemptNo,
      ...cause,
      now: this.kernel.clock.now(),
      ...(this.scheduleToCloseDeadline === undefined
        ? {}
        : { scheduleToCloseDeadline: this.scheduleToCloseDeadline }),
    });
  }

  /**
   * The one retry-or-final decision: a retried attempt is information (the workflow does not wake),
   * a final one wakes the workflow with the failure.
   */
  private finishAttempt(outcome: NewEvent, retryDelayMs: number | undefined): void {
    this.finish(
      retryDelayMs === undefined
        ? { info: this.started(), input: outcome }
        : { info: [...this.started(), outcome] },
    );
  }

  /**
   * The activity threw CompleteAsyncError: the attempt gives back its slot and stays open, its
   * timeouts still armed, until its task token's holder completes or fails it, or the workflow
   * cancels it (recorded as cancelled at once: nobody is left to acknowledge it).
   */
  private awaitCompletion(): void {
    const { attempt, scheduled } = this;
    const settle = (work: Work) =>
      new Promise<void>((resolve, reject) => {
        if (attempt.finished) {
          reject(new Error('the attempt already finished'));
          return;
        }
        this.finish({ ...work, done: (error) => (error ? reject(error) : resolve()) });
      });
    attempt.awaiting = {
      activityId: scheduled.activityId,
      complete: (result) => {
        const recordable = toRecordable(result);
        if (!recordable.ok) return Promise.reject(new Error(recordable.failure.message));
        return settle({
          info: this.started(),
          input: {
            type: 'ActivityTaskCompleted',
            seq: scheduled.seq,
            attempt: this.attemptNo,
            result: recordable.value,
          },
        });
      },
      fail: (failure) => {
        const delay = this.retryDelay({ failure });
        const outcome: NewEvent = {
          type: 'ActivityTaskFailed',
          seq: scheduled.seq,
          attempt: this.attemptNo,
          failure,
          ...(delay === undefined ? {} : { nextRetryDelayMs: delay }),
        };
        return settle(
          delay === undefined
            ? { info: this.started(), input: outcome }
            : { info: [...this.started(), outcome] },
        );
      },
      heartbeat: (details) => this.heartbeat(details),
    };
    const { signal } = attempt.controller;
    signal.addEventListener(
      'abort',
      () => {
        if (signal.reason instanceof CancelledFailure) {
          const cancelled = cancelledWork(this.entry, scheduled.seq, this.attemptNo);
          this.finish({ ...cancelled, info: [...this.started(), ...(cancelled.info ?? [])] });
        }
      },
      { once: true },
    );
    if (!this.startedRecorded) {
      // Durable, so that a restart waits for the token instead of running the activity again.
      this.hooks.outcome({ info: [{ ...this.startedEvent, asyncCompletion: true } as NewEvent] });
      this.startedRecorded = true;
    }
    this.released = true;
    this.hooks.release(attempt.sleeping === 0);
  }

  private finish(work: Work): void {
    const { attempt, entry } = this;
    if (attempt.finished) return;
    attempt.finished = true;
    if (this.startedAt !== undefined) {
      this.kernel.metering?.sink.activityAttemptTimed(
        this.scheduled.activityType,
        this.scheduleToStartSeconds,
        (performance.now() - this.startedAt) / 1000,
      );
    }
    if (entry.attempts.get(attempt.seq) === attempt) entry.attempts.delete(attempt.seq);
    attempt.deadlineTimer?.cancel();
    attempt.heartbeatTimer?.cancel();
    if (!this.released) {
      this.released = true;
      this.hooks.release(attempt.sleeping === 0);
    }
    this.hooks.outcome(work);
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    const { attempt } = this;
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      attempt.sleeping++;
      if (attempt.sleeping === 1 && !attempt.finished) this.hooks.sleeping(1);
      else this.kernel.notifyIdle();
      const done = () => {
        attempt.sleeping--;
        if (attempt.sleeping === 0 && !attempt.finished) this.hooks.sleeping(-1);
        signal.removeEventListener('abort', onAbort);
      };
      const timer = this.kernel.clock.setTimer(this.kernel.clock.now() + ms, () => {
        done();
        resolve();
      });
      const onAbort = () => {
        timer.cancel();
        done();
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function waitsForCancellation(scheduled: ActivityTaskScheduled): boolean {
  return scheduled.options.cancellationType === 'WAIT_CANCELLATION_COMPLETED';
}

/**
 * The activity ended as cancelled by its workflow. With TRY_CANCEL the workflow moved on already, so
 * the acknowledgement is information; with WAIT_CANCELLATION_COMPLETED the workflow waits for it,
 * so it is recorded as the activity's final failure (a CancelledFailure), which wakes the workflow.
 */
function cancelledWork(entry: RunEntry, seq: number, attempt?: number): Work {
  const pending = entry.executor?.activities.get(seq);
  if (!pending || !waitsForCancellation(pending.scheduled)) {
    return { info: [{ type: 'ActivityTaskCanceled', seq }] };
  }
  return {
    input: {
      type: 'ActivityTaskFailed',
      seq,
      attempt: attempt ?? pending.attempt,
      failure: { name: 'CancelledFailure', message: 'activity cancelled by the workflow' },
    },
  };
}

function notRegistered(activityType: string, known: string[]): FailureInfo {
  return {
    name: 'ApplicationFailure',
    type: 'ActivityNotRegistered',
    nonRetryable: true,
    message: `activity ${JSON.stringify(activityType)} is not registered: export it from your activities module${
      known.length ? ` (registered: ${known.join(', ')})` : ''
    }`,
  };
}
