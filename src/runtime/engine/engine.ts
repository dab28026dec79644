import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { decodeTaskToken } from '../../activity/task-token.js';
import { DEFAULT_MAX_CONCURRENT_ACTIVITIES } from '../../common/defaults.js';
import {
  ActivityNotFoundError,
  InvalidArgumentError,
  QueryFailedError,
  WfError,
  WorkflowNotFoundError,
  WorkflowNotRunningError,
} from '../../common/errors.js';
import { parseListQuery } from '../../common/list-query.js';
import { checkName } from '../../common/request-rules.js';
import {
  isScheduleStore,
  type ScheduleActionResult,
  type ScheduleDefinition,
  type ScheduleDescription,
  type ScheduleOverlapPolicy,
} from '../../common/schedules.js';
import { checkTraceHeader, type TraceHeader } from '../../common/trace-header.js';
import {
  CLOSING_EVENT_TYPES,
  type FailureInfo,
  type HistoryEvent,
  type NewEvent,
} from '../../history/events.js';
import type { RunSummary } from '../../history/store.js';
import type {
  ActivityCompletionService,
  ClusterInfo,
  EventNotice,
  FiredTimer,
  ListRequest,
  ListResponse,
  ResultRequest,
  RunDescription,
  RunRef,
  ScheduleService,
  StartWorkflowRequest,
  StartWorkflowResponse,
  WorkflowOutcome,
  WorkflowService,
} from '../../protocol/service.js';
import { RealClock } from '../clock.js';
import { NonDeterminismError } from '../errors.js';
import { RunExecutor } from '../executor.js';
import { ActivityDispatcher } from './activity-dispatcher.js';
import { Children } from './children.js';
import { Cluster } from './cluster.js';
import { Effects } from './effects.js';
import { ExternalMessages } from './external.js';
import { EngineKernel } from './kernel.js';
import { Mailbox } from './mailbox.js';
import { corruptRunError, Outcomes, outcomeOfClosing, updateFailed, updateRejected } from './outcomes.js';
import { isSharedStore } from './ownership.js';
import { PausedRuns } from './paused.js';
import { Recovery, type RecoveryProgress } from './recovery.js';
import { decodePageToken, encodePageToken, jsonArgs } from './requests.js';
import { RunCache } from './run-cache.js';
import { type AwaitingCompletion, liveExecutor, type RunEntry } from './run-entry.js';
import { Schedules } from './schedules.js';
import { Starts } from './start.js';
import { DurableTimers } from './timers.js';
import type { ActivityFunction, EngineGauges, EngineOptions, TraceIds, WorkflowCode } from './types.js';

const SILENT = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The engine: runs workflows durably over a store and a clock. It carries out what the executor
 * records (activities with retries and timeouts, timers, children, continue-as-new), appends every
 * outcome to the store before anyone hears of it, and rebuilds runs from their histories after a
 * restart or an eviction. `wf dev` runs it on the file store and the real clock; `wfkit/testing`
 * on the memory store and a virtual clock.
 *
 * It is a small coordinator: the work is done in rooms (run cache, mailbox, effects, activity
 * dispatcher, timers, children, external messages, starts, recovery, outcomes, paused runs).
 */
export class WorkflowEngine implements WorkflowService, ActivityCompletionService, ScheduleService {
  readonly clock: EngineKernel['clock'];
  private readonly kernel: EngineKernel;
  private readonly cache: RunCache;
  private readonly mailbox: Mailbox;
  private readonly starts: Starts;
  private readonly effects: Effects;
  private readonly outcomes: Outcomes;
  private readonly recovery: Recovery;
  private readonly paused: PausedRuns;
  private readonly cluster_: Cluster | undefined;
  private readonly schedules: Schedules | undefined;

  constructor(options: EngineOptions) {
    const kernel = new EngineKernel(
      options.store,
      options.clock ?? new RealClock(),
      options.logger ?? SILENT,
      options.code,
      options.activities,
      options.metrics,
      options.tracing,
    );
    if (options.activityLog) kernel.activityLog = options.activityLog;
    this.kernel = kernel;
    this.clock = kernel.clock;
    const metrics = options.metrics;
    const cache = new RunCache(
      options.maxCachedRuns ?? 1000,
      metrics ? (entry) => metrics.workflowEvicted(entry.workflowType) : undefined,
    );
    this.cache = cache;
    // Rooms are wired once; a room that needs one built after it gets a function that reaches it later.
    const mailbox = new Mailbox({
      kernel,
      cache,
      afterAppend: (entry, events) => this.effects.afterAppend(entry, events),
      onPauseChange: options.onPauseChange,
      onStoreLost: (entry, error, unsure) => this.cluster_?.onStoreLost(entry, error, unsure),
      onFenced: (entry, error, unrecorded) => {
        if (this.cluster_) this.cluster_.onFenced(entry, error, unrecorded);
        else this.mailbox.pause(entry, error);
      },
    });
    this.mailbox = mailbox;
    const timers = new DurableTimers(kernel, mailbox);
    const maxActivities = options.maxConcurrentActivities ?? DEFAULT_MAX_CONCURRENT_ACTIVITIES;
    const activities = new ActivityDispatcher(kernel, mailbox, maxActivities);
    kernel.activeAttempts = () => activities.activeAttempts();
    this.starts = new Starts(kernel, cache, mailbox, timers, {
      afterAppend: (entry, events) => this.effects.afterAppend(entry, events),
      signal: (ref, name, args, header) => this.signal(ref, name, args, undefined, header),
    });
    const children = new Children(kernel, cache, mailbox, this.starts, () => this.outcomes, {
      cancel: (ref, reason) => this.cancel(ref, reason),
      terminate: (ref, reason) => this.terminate(ref, reason),
      result: (req) => this.result(req),
      deliverToParent: (parent, event) => this.cluster_?.deliver(parent, { kind: 'child-outcome', event }),
    });
    const external = new ExternalMessages(kernel, mailbox, this);
    this.outcomes = new Outcomes(kernel, cache, {
      stopEffects: (entry) => {
        this.effects.stop(entry);
        activities.closeRun(entry);
      },
      closeChildren: (entry) => children.closeAll(entry),
      continueChain: (entry, event) =>
        this.starts.continueChain(
          entry.started,
          {
            ...event,
            searchAttributes: entry.executor?.searchAttributes ?? entry.started.searchAttributes ?? {},
          },
          entry,
        ),
      notifyParent: (entry, outcome) => children.notifyParent(entry.started, outcome),
    });
    this.effects = new Effects(kernel, { activities, timers, children, external, outcomes: this.outcomes });
    this.recovery = new Recovery(kernel, cache, mailbox, this.effects, this.starts);
    this.paused = new PausedRuns(kernel, mailbox, this.effects, children);
    if (isScheduleStore(options.store)) {
      this.schedules = new Schedules(kernel, options.store, {
        start: (req) => this.startWorkflow(req),
        cancel: (ref, reason) => this.cancel(ref, reason),
        terminate: (ref, reason) => this.terminate(ref, reason),
        status: async (workflowId) => (await kernel.store.latestRun(workflowId))?.status,
      });
    }
    if (isSharedStore(options.store)) {
      this.cluster_ = new Cluster(
        kernel,
        options.store,
        cache,
        mailbox,
        () => this.effects,
        () => this.recovery,
        () => this.outcomes,
        options.cluster ?? {},
        activities,
        maxActivities,
      );
    }
  }

  /**
   * Loads every open run from the store and resumes it where it stopped. On a store shared with
   * other processes, starts taking part instead: claims the runs due now (those whose holder died
   * included) and keeps claiming as work comes due.
   */
  async recover(): Promise<{ resumed: number; paused: number }> {
    return (await this.startRecovery()).done;
  }

  /**
   * Starts bringing back the runs the store holds open and returns how many there are, with a
   * promise of when the last is back. Requests are served meanwhile: one that names a run not yet
   * back brings it back first. (Shared stores: runs are claimed before this returns.)
   */
  async startRecovery(): Promise<RecoveryProgress> {
    let progress: RecoveryProgress;
    if (this.cluster_) {
      const recovered = await this.recoverRuns();
      progress = { open: recovered.resumed + recovered.paused, done: Promise.resolve(recovered) };
    } else {
      progress = await this.recovery.start();
    }
    this.recovered = progress.done.then(() => undefined);
    await this.schedules?.load();
    return progress;
  }

  /** Resolves once every run open at start-up is back (at once when none was). */
  whenRecovered(): Promise<void> {
    return this.recovered;
  }

  private recovered: Promise<void> = Promise.resolve();

  private async recoverRuns(): Promise<{ resumed: number; paused: number }> {
    if (!this.cluster_) return this.recovery.recover();
    await this.recovery.finishContinuedChains();
    await this.cluster_.start();
    let resumed = 0;
    let paused = 0;
    for (const entry of this.cache.values()) {
      if (entry.paused) paused++;
      else resumed++;
    }
    return { resumed, paused };
  }

  /** This process's name in the leases of a shared store (undefined for a one-process store). */
  get owner(): string | undefined {
    return this.cluster_?.owner;
  }

  /** Swaps the workflow code (hot reload): every open run is rebuilt by replay against it. */
  async setCode(
    code: WorkflowCode,
    activities?: Record<string, ActivityFunction>,
  ): Promise<{ paused: string[] }> {
    this.kernel.code = code;
    if (activities) this.kernel.activities = activities;
    const paused: string[] = [];
    for (const entry of [...this.cache.values()]) {
      if (entry.closed) continue;
      const wasPaused = entry.paused !== undefined;
      try {
        await this.mailbox.withRun(entry, async () => {
          // Inside the run's slot: an append in flight keeps the executor its effects need.
          entry.executor = undefined;
          entry.paused = undefined;
          await this.mailbox.load(entry);
        });
      } catch (error) {
        this.mailbox.pause(entry, error as Error);
      }
      if (entry.paused) paused.push(entry.key.workflowId);
      else {
        if (wasPaused) this.mailbox.resumed(entry);
        // A run paused before (at recovery, or while waiting to retry) has effects to re-arm;
        // re-arming skips whatever is armed or running already.
        this.effects.resume(entry);
        this.mailbox.kick(entry);
      }
    }
    return { paused };
  }

  /** Stops timers and activities and waits for in-flight appends. The store stays open. */
  async shutdown(): Promise<void> {
    this.schedules?.stop();
    this.kernel.stopped = true;
    for (const entry of this.cache.values()) this.effects.stop(entry);
    await this.kernel.waitForIdle(5000);
    // Other processes sharing the store take what this one held at once, not after its leases expire.
    await this.cluster_?.stop(true);
  }

  /** Runs held in memory, and how many keep their executor (the rest are rebuilt by replay when they wake). */
  /**
   * The trace and span IDs a log line of this run belongs to (its `RunWorkflow` span, or an activity
   * attempt's `RunActivity`), when tracing is on and the run is held here.
   */
  traceContext(runId: string, activity?: { activityId: string; attempt: number }): TraceIds | undefined {
    return this.kernel.tracing?.logContext(runId, activity);
  }

  /** What this process holds right now, for metrics gauges. */
  gauges(): EngineGauges {
    const gauges: EngineGauges = {
      openRuns: 0,
      pausedRuns: 0,
      cachedRuns: 0,
      pendingTimers: 0,
      runningActivities: 0,
    };
    for (const entry of this.cache.values()) {
      if (entry.closed || entry.dropped) continue;
      gauges.openRuns++;
      if (entry.paused !== undefined) gauges.pausedRuns++;
      if (entry.executor) gauges.cachedRuns++;
      gauges.pendingTimers += entry.timers.size;
      for (const attempt of entry.attempts.values()) if (!attempt.finished) gauges.runningActivities++;
    }
    return gauges;
  }

  cacheStats(): { runs: number; loaded: number } {
    return { runs: this.cache.size, loaded: this.cache.loadedCount };
  }

  // ---- WorkflowService -------------------------------------------------------------------------

  startWorkflow(req: StartWorkflowRequest): Promise<StartWorkflowResponse> {
    return this.starts.startWorkflow(req);
  }

  async describe(ref: RunRef): Promise<RunDescription> {
    const summary = await this.summaryOf(ref);
    const description: RunDescription = { ...summary, pendingActivities: [], pendingTimers: [] };
    const entry = this.heldHere(summary);
    if (!entry || entry.closed) {
      if (summary.status === 'RUNNING' && this.cluster_) {
        try {
          this.describePending(description, await this.replayed(summary));
        } catch (error) {
          // Another build wrote it (a rolling deploy): this server's code does not replay it.
          description.paused = { reason: (error as Error).message };
        }
      }
      return description;
    }
    if (entry.paused) {
      description.paused = { reason: entry.paused, ...(entry.pausedAt ? { callSite: entry.pausedAt } : {}) };
    }
    const executor = liveExecutor(entry) ?? (await this.mailbox.tryLoad(entry));
    if (executor) this.describePending(description, executor);
    return description;
  }

  private describePending(description: RunDescription, executor: RunExecutor): void {
    description.pendingActivities = [...executor.activities.entries()].map(([seq, p]) => ({
      seq,
      activityType: p.scheduled.activityType,
      attempt: p.attempt,
      ...(p.lastFailure ? { lastFailure: p.lastFailure } : {}),
      ...(p.scheduled.callSite ? { callSite: p.scheduled.callSite } : {}),
    }));
    description.pendingTimers = [...executor.timers.values()].map((t) => ({
      seq: t.seq,
      fireAt: new Date(t.fireAt).toISOString(),
      ...(t.callSite ? { callSite: t.callSite } : {}),
    }));
  }

  /** A run's state rebuilt read-only from its stored history (nothing is appended). */
  private async replayed(summary: RunSummary): Promise<RunExecutor> {
    const history = await this.kernel.store.readHistory(summary);
    try {
      return (await RunExecutor.replayAsync(history, this.kernel.executorOptions())).executor;
    } catch (error) {
      if (!(error instanceof NonDeterminismError)) throw error;
      throw new WfError(
        'UNAVAILABLE',
        `this server's code (build ${this.kernel.buildId ?? 'unknown'}) cannot replay workflow ${JSON.stringify(summary.workflowId)}: ${error.message}`,
      );
    }
  }

  async list(req: ListRequest = {}): Promise<ListResponse> {
    const { pageSize = 100, nextPageToken, query, ...filter } = req;
    const matches = query === undefined || query.trim() === '' ? undefined : parseListQuery(query);
    const position = nextPageToken ? decodePageToken(nextPageToken) : undefined;
    const withPause = (run: RunSummary) => {
      const entry = this.cache.get(run);
      return entry?.paused && !entry.closed ? { ...run, paused: { reason: entry.paused } } : run;
    };
    const { store } = this.kernel;
    if (isSharedStore(store)) {
      // The database pages itself: one page read, however many runs the store holds.
      let after = position && 'after' in position ? position.after : undefined;
      const runs: RunSummary[] = [];
      // With a query, read pages until this one is full (at most 20 pages a request; the token goes on).
      for (let pages = 0; pages < (matches ? 20 : 1); pages++) {
        const page = await store.listRunsPage(filter, {
          pageSize,
          ...(after === undefined ? {} : { after }),
        });
        runs.push(...(matches ? page.runs.filter(matches) : page.runs).map(withPause));
        after = page.nextCursor;
        if (!after || runs.length >= pageSize) break;
      }
      return after ? { runs, nextPageToken: encodePageToken({ after }) } : { runs };
    }
    const listed = await store.listRuns(filter);
    const all = matches ? listed.filter(matches) : listed;
    const offset = position && 'offset' in position ? position.offset : 0;
    const runs = all.slice(offset, offset + pageSize).map(withPause);
    const next = offset + pageSize < all.length ? encodePageToken({ offset: offset + pageSize }) : undefined;
    return next ? { runs, nextPageToken: next } : { runs };
  }

  async history(ref: RunRef): Promise<HistoryEvent[]> {
    return this.kernel.store.readHistory(await this.summaryOf(ref));
  }

  async signal(
    ref: RunRef,
    signalName: string,
    args: unknown[],
    requestId?: string,
    header?: TraceHeader,
  ): Promise<void> {
    checkName('the signal name', signalName);
    if (requestId !== undefined) checkName('the request ID', requestId);
    const traced = checkTraceHeader(header);
    return this.toCurrentRun(ref, () => this.signalOnce(ref, signalName, args, requestId, traced));
  }

  /**
   * A request by workflow ID alone goes to the current run of its chain (Temporal's semantics): if it
   * reached a run that has just continued as new (between the look-up and the delivery, or queued
   * behind the activation that continued), it is sent again to the run that follows.
   */
  private async toCurrentRun<T>(ref: RunRef, send: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        const continued = error instanceof WorkflowNotRunningError && error.status === 'CONTINUED_AS_NEW';
        if (ref.runId !== undefined || !continued || attempt >= 500) throw error;
        // The next run is created right after the closing event is recorded: it is there at once or soon.
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(2 * attempt, 20)));
      }
    }
  }

  private async signalOnce(
    ref: RunRef,
    signalName: string,
    args: unknown[],
    requestId?: string,
    header?: TraceHeader,
  ): Promise<void> {
    const target = await this.target(ref, { evenIfPaused: true });
    const signalArgs = jsonArgs(args, 'signal');
    if ('elsewhere' in target) {
      const message = {
        kind: 'signal' as const,
        signalName,
        args: signalArgs,
        ...(header ? { header } : {}),
      };
      return this.cluster_!.deliver(
        target.elsewhere,
        requestId === undefined ? message : { ...message, requestId },
      );
    }
    const { entry } = target;
    const input: NewEvent = {
      type: 'WorkflowSignaled',
      signalName,
      args: signalArgs,
      ...(requestId === undefined ? {} : { requestId }),
      ...(header ? { header } : {}),
    };
    // A paused run still takes signals: they are recorded now and delivered when it resumes.
    if (entry.paused) await this.paused.append(entry, input);
    else await this.mailbox.submit(entry, { input });
  }

  async query(ref: RunRef, queryName: string, args: unknown[]): Promise<unknown> {
    checkName('the query name', queryName);
    const summary = await this.summaryOf(ref);
    const entry = this.heldHere(summary);
    // A run held elsewhere (or closed) is answered from its stored history: the state as of its last recorded step.
    const executor =
      entry && !entry.closed
        ? (liveExecutor(entry) ?? (await this.mailbox.withRun(entry, () => this.mailbox.load(entry))))
        : await this.replayed(summary);
    const queryStarted = new Date();
    const outcome = executor.query(queryName, jsonArgs(args, 'query'));
    this.kernel.tracing?.queryHandled(
      executor.started,
      queryName,
      queryStarted,
      outcome.ok ? undefined : outcome.failure,
    );
    this.kernel.metering?.sink.queryHandled(
      executor.started.workflowType,
      outcome.ok ? 'answered' : 'failed',
    );
    if (!outcome.ok) {
      throw new QueryFailedError(outcome.failure.message, {
        notRegistered: outcome.failure.name === 'QueryNotRegistered',
      });
    }
    return outcome.result;
  }

  async update(
    ref: RunRef,
    updateName: string,
    args: unknown[],
    updateId?: string,
    traceHeader?: TraceHeader,
  ): Promise<unknown> {
    checkName('the update name', updateName);
    if (updateId !== undefined) checkName('the update ID', updateId);
    const id = updateId ?? randomUUID();
    const header = checkTraceHeader(traceHeader);
    const target = await this.target(ref, { claim: true });
    if ('elsewhere' in target) {
      await this.cluster_!.deliver(target.elsewhere, {
        kind: 'update',
        updateId: id,
        updateName,
        args: jsonArgs(args, 'update'),
        ...(header ? { header } : {}),
      });
      return this.updateOutcomeElsewhere(target.elsewhere, id, updateName);
    }
    const { entry } = target;
    return new Promise<unknown>((resolve, reject) => {
      const waiter = { resolve, reject };
      entry.updateWaiters.set(id, [...(entry.updateWaiters.get(id) ?? []), waiter]);
      this.mailbox.enqueue(entry, {
        update: { id, name: updateName, args: jsonArgs(args, 'update'), ...(header ? { header } : {}) },
        done: (error) => {
          if (!error) return;
          const rest = (entry.updateWaiters.get(id) ?? []).filter((w) => w !== waiter);
          if (rest.length) entry.updateWaiters.set(id, rest);
          else entry.updateWaiters.delete(id);
          reject(error);
        },
      });
    });
  }

  async cancel(ref: RunRef, reason?: string): Promise<void> {
    return this.toCurrentRun(ref, () => this.cancelOnce(ref, reason));
  }

  private async cancelOnce(ref: RunRef, reason?: string): Promise<void> {
    const target = await this.target(ref, { evenIfPaused: true });
    if ('elsewhere' in target) {
      return this.cluster_!.deliver(target.elsewhere, {
        kind: 'cancel',
        ...(reason === undefined ? {} : { reason }),
      });
    }
    const { entry } = target;
    const input: NewEvent = {
      type: 'WorkflowExecutionCancelRequested',
      ...(reason === undefined ? {} : { reason }),
    };
    if (entry.paused) await this.paused.append(entry, input);
    else await this.mailbox.submit(entry, { input });
  }

  async terminate(ref: RunRef, reason?: string): Promise<void> {
    const target = await this.target(ref, { evenIfPaused: true });
    if ('elsewhere' in target) {
      return this.cluster_!.deliver(target.elsewhere, {
        kind: 'terminate',
        ...(reason === undefined ? {} : { reason }),
      });
    }
    const { entry } = target;
    if (entry.paused) return this.paused.terminate(entry, reason);
    await this.mailbox.submit(entry, {
      close: { type: 'WorkflowExecutionTerminated', ...(reason === undefined ? {} : { reason }) },
    });
  }

  /**
   * Fires a pending timer of an open run now, before its deadline (`wf timer fire`): the earliest
   * one, or the one numbered `seq`. The workflow sees the time it fired at, and the history records
   * it, so replay is exact.
   */
  async fireTimer(ref: RunRef, seq?: number): Promise<FiredTimer> {
    if (seq !== undefined && !(Number.isInteger(seq) && seq >= 0)) {
      throw new InvalidArgumentError(`a timer seq is a non-negative integer, not ${JSON.stringify(seq)}`);
    }
    const entry = await this.openRun(ref, { claim: true });
    const executor = await this.mailbox.withRun(entry, () => this.mailbox.load(entry));
    const pending = [...executor.timers.values()]
      // Fired already (its TimerFired is queued or being recorded): not pending any more.
      .filter((t) => entry.timers.has(t.seq))
      .sort((a, b) => a.fireAt - b.fireAt || a.seq - b.seq);
    const which = seq === undefined ? 'a pending timer' : `a pending timer with seq ${seq}`;
    const timer = seq === undefined ? pending[0] : pending.find((t) => t.seq === seq);
    if (!timer) {
      const list = pending.map((t) => `seq ${t.seq} (fires ${new Date(t.fireAt).toISOString()})`);
      throw new InvalidArgumentError(
        `workflow ${JSON.stringify(entry.key.workflowId)} has no ${which.slice(2)}` +
          (list.length ? `; its pending timers: ${list.join(', ')}` : '; it has no pending timer at all') +
          '. See them with `wf show`.',
      );
    }
    entry.timers.get(timer.seq)?.cancel();
    entry.timers.delete(timer.seq);
    await this.mailbox.submit(entry, { input: { type: 'TimerFired', seq: timer.seq } });
    return {
      workflowId: entry.key.workflowId,
      runId: entry.key.runId,
      seq: timer.seq,
      fireAt: new Date(timer.fireAt).toISOString(),
      firedAt: this.kernel.nowIso(),
    };
  }

  async result(req: ResultRequest): Promise<WorkflowOutcome> {
    let summary = await this.summaryOf(req);
    const follow = req.followRuns ?? true;
    // Wall-clock time, not the engine's Clock: a caller's patience, which skipping time must not cut short.
    const deadline = req.waitTimeoutMs === undefined ? undefined : Date.now() + req.waitTimeoutMs;
    for (;;) {
      const outcome = await this.outcomes.outcomeOf(summary, deadline);
      if (outcome.status !== 'CONTINUED_AS_NEW' || !follow) return outcome;
      summary = await this.summaryOf({ workflowId: summary.workflowId, runId: outcome.newRunId });
    }
  }

  subscribe(listener: (notice: EventNotice) => void): () => void {
    return this.kernel.subscribe(listener);
  }

  // ---- async activity completion (ActivityCompletionService) --------------------------------------

  async completeActivity(req: { taskToken: string; result?: unknown }): Promise<void> {
    const awaiting = await this.awaitingAttempt(req.taskToken);
    await awaiting.complete(jsonArgs([req.result ?? null], 'activity result')[0]);
  }

  async failActivity(req: { taskToken: string; failure: FailureInfo }): Promise<void> {
    const awaiting = await this.awaitingAttempt(req.taskToken);
    await awaiting.fail(req.failure);
  }

  async heartbeatActivity(req: { taskToken: string; details?: unknown }): Promise<void> {
    const awaiting = await this.awaitingAttempt(req.taskToken);
    awaiting.heartbeat(
      req.details === undefined ? undefined : jsonArgs([req.details], 'heartbeat details')[0],
    );
  }

  /** The attempt a task token names, if it waits for async completion here. */
  private async awaitingAttempt(taskToken: string): Promise<AwaitingCompletion> {
    const token = decodeTaskToken(taskToken);
    const what = `attempt ${token.attempt} of activity ${JSON.stringify(token.activityId)} of workflow ${JSON.stringify(token.workflowId)}`;
    const summary = await this.summaryOf({ workflowId: token.workflowId, runId: token.runId }).catch(
      (error: unknown) => {
        if (error instanceof WorkflowNotFoundError) {
          throw new ActivityNotFoundError(`no ${what}: the workflow run ${token.runId} does not exist`);
        }
        throw error;
      },
    );
    const entry = this.heldHere(summary);
    if (!entry && summary.status === 'RUNNING' && this.cluster_) {
      throw new WfError(
        'UNAVAILABLE',
        `workflow ${JSON.stringify(token.workflowId)} is held by another process, where its activity waits: send the completion to that server`,
      );
    }
    if (!entry || entry.closed) {
      throw new ActivityNotFoundError(
        `no ${what} waits for completion: the run is ${summary.status.toLowerCase()}`,
      );
    }
    const attempt = entry.attempts.get(token.seq);
    if (attempt && !attempt.finished && attempt.attempt === token.attempt && !attempt.awaiting) {
      throw new WfError(
        'NOT_RUNNING',
        `${what} is still running: it can be completed by its task token once it has thrown CompleteAsyncError`,
      );
    }
    if (!attempt || attempt.attempt !== token.attempt || attempt.awaiting?.activityId !== token.activityId) {
      throw new ActivityNotFoundError(
        `no ${what} waits for completion: it completed, failed, timed out or was cancelled already${
          attempt && attempt.attempt !== token.attempt ? ` (attempt ${attempt.attempt} runs now)` : ''
        }`,
      );
    }
    return attempt.awaiting;
  }

  // ---- schedules ---------------------------------------------------------------------------------

  createSchedule(definition: ScheduleDefinition): Promise<ScheduleDescription> {
    return this.scheduleRoom().create(definition);
  }

  describeSchedule(scheduleId: string): Promise<ScheduleDescription> {
    return this.scheduleRoom().describe(scheduleId);
  }

  listSchedules(): Promise<ScheduleDescription[]> {
    return this.scheduleRoom().list();
  }

  pauseSchedule(scheduleId: string, note?: string): Promise<ScheduleDescription> {
    return this.scheduleRoom().pause(scheduleId, true, note);
  }

  unpauseSchedule(scheduleId: string, note?: string): Promise<ScheduleDescription> {
    return this.scheduleRoom().pause(scheduleId, false, note);
  }

  triggerSchedule(scheduleId: string, overlap?: ScheduleOverlapPolicy): Promise<ScheduleActionResult> {
    return this.scheduleRoom().trigger(scheduleId, overlap);
  }

  backfillSchedule(
    scheduleId: string,
    range: { startAt: string; endAt: string; overlap?: ScheduleOverlapPolicy },
  ): Promise<ScheduleActionResult[]> {
    const startAt = Date.parse(range.startAt);
    const endAt = Date.parse(range.endAt);
    if (Number.isNaN(startAt) || Number.isNaN(endAt)) {
      throw new InvalidArgumentError('a backfill range is two ISO times, e.g. 2026-01-01T00:00:00Z');
    }
    return this.scheduleRoom().backfill(scheduleId, {
      startAt,
      endAt,
      ...(range.overlap === undefined ? {} : { overlap: range.overlap }),
    });
  }

  deleteSchedule(scheduleId: string): Promise<void> {
    return this.scheduleRoom().delete(scheduleId);
  }

  private scheduleRoom(): Schedules {
    if (!this.schedules) {
      throw new WfError(
        'UNAVAILABLE',
        'this store keeps no schedules (the file, memory and PostgreSQL stores do)',
      );
    }
    return this.schedules;
  }

  async cluster(): Promise<ClusterInfo> {
    if (this.cluster_) return { store: 'shared', servers: await this.cluster_.servers() };
    return {
      store: 'single',
      servers: [
        { owner: `pid-${process.pid}`, host: hostname(), pid: process.pid, heldRuns: this.cache.size },
      ],
    };
  }

  // ---- idleness (for time skipping) --------------------------------------------------------------

  /** True when nothing is in flight: no appends, no activations, no activity doing real work. */
  isIdle(): boolean {
    return this.kernel.isIdle();
  }

  /**
   * Resolves once the engine is idle (or after `timeoutMs`). Polls on wall-clock time, not the
   * engine's Clock: a virtual clock stands still while the engine settles.
   */
  waitForIdle(timeoutMs = 60_000): Promise<void> {
    return this.kernel.waitForIdle(timeoutMs);
  }

  /** True when no append or activation is in flight; activities may still be running. */
  isSettled(): boolean {
    return this.kernel.isSettled();
  }

  /** Resolves once settled (activities may run on), or after `timeoutMs` of wall-clock time. */
  waitForSettled(timeoutMs = 60_000): Promise<void> {
    return this.kernel.waitForSettled(timeoutMs);
  }

  // ---- lookups -----------------------------------------------------------------------------------

  private async summaryOf(ref: RunRef): Promise<RunSummary> {
    if (typeof ref.workflowId !== 'string' || ref.workflowId === '') {
      throw new InvalidArgumentError('a workflow ID is required');
    }
    checkName('the workflow ID', ref.workflowId);
    if (ref.runId !== undefined) checkName('the run ID', ref.runId);
    const { store } = this.kernel;
    if (ref.runId) {
      const run = (await store.listRuns({ workflowId: ref.workflowId })).find((r) => r.runId === ref.runId);
      if (!run) throw new WorkflowNotFoundError(ref.workflowId, ref.runId);
      if (run.status === 'RUNNING') await this.cache.getRecovered(run);
      return run;
    }
    const latest = await store.latestRun(ref.workflowId);
    if (!latest) throw new WorkflowNotFoundError(ref.workflowId);
    if (latest.status === 'RUNNING') await this.cache.getRecovered(latest);
    return latest;
  }

  /** The open run `ref` names, held here (claimed here first when `claim` and nobody holds it). */
  private async openRun(
    ref: RunRef,
    options: { evenIfPaused?: boolean; claim?: boolean } = {},
  ): Promise<RunEntry> {
    const target = await this.target(ref, options);
    if ('entry' in target) return target.entry;
    throw new WfError(
      'UNAVAILABLE',
      `workflow ${JSON.stringify(target.elsewhere.workflowId)} is held by another process; send the request to any server again shortly`,
    );
  }

  /**
   * Where a request on an open run goes: the run held here, or (on a shared store) the summary of a
   * run another process holds, whose inbox takes the request.
   */
  private async target(
    ref: RunRef,
    options: { evenIfPaused?: boolean; claim?: boolean } = {},
  ): Promise<{ entry: RunEntry } | { elsewhere: RunSummary }> {
    const summary = await this.summaryOf(ref);
    if (summary.status === 'CORRUPT') throw corruptRunError(summary);
    let entry = this.heldHere(summary);
    if (!entry && summary.status === 'RUNNING' && this.cluster_) {
      if (options.claim) entry = await this.cluster_.claimHere(summary);
      if (!entry) return { elsewhere: summary };
    }
    if (!entry && summary.status === 'RUNNING') throw this.notLoadedError(summary);
    if (!entry || entry.closed)
      throw new WorkflowNotRunningError(summary.workflowId, summary.runId, summary.status);
    if (entry.paused && !options.evenIfPaused) {
      throw new WfError(
        'UNAVAILABLE',
        `workflow ${JSON.stringify(summary.workflowId)} is paused until its code replays its history again:\n${entry.paused}\n` +
          'Fix the code (wf dev reloads it), or terminate the run with `wf terminate`.',
      );
    }
    return { entry };
  }

  private heldHere(key: RunRef & { runId: string }): RunEntry | undefined {
    const entry = this.cache.get(key);
    return entry && !entry.dropped ? entry : undefined;
  }

  /** Waits for an update sent to a run another process holds, by watching the run's history. */
  private async updateOutcomeElsewhere(
    summary: RunSummary,
    updateId: string,
    updateName: string,
  ): Promise<unknown> {
    for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
      const history = await this.kernel.store.readHistory(summary);
      for (const event of history) {
        if (event.type === 'WorkflowUpdateCompleted' && event.updateId === updateId) {
          if (event.failure) throw updateFailed(updateName, event.failure);
          return event.result;
        }
        if (event.type === 'WorkflowUpdateRejected' && event.updateId === updateId) {
          throw updateRejected(updateName, event.failure);
        }
      }
      const last = history[history.length - 1];
      if (last && CLOSING_EVENT_TYPES.has(last.type)) {
        throw new WorkflowNotRunningError(summary.workflowId, summary.runId, outcomeOfClosing(last).status);
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /**
   * The store lists the run as open but this engine holds no entry for it (its history could not be
   * read at recovery). Saying "not running" would send signal-with-start round again for ever.
   */
  private notLoadedError(summary: RunSummary): WfError {
    return new WfError(
      'UNAVAILABLE',
      `workflow ${JSON.stringify(summary.workflowId)} (run ${summary.runId}) is open in the store, but this server could not load it: ${this.recovery.whyNotLoaded(summary)}\n` +
        'Nothing was recorded. Fix the cause (see the server log) and restart wf dev, which loads open runs again.',
    );
  }
}
