import { randomUUID } from 'node:crypto';
import { Context } from '../activity/index.js';
import {
  InvalidArgumentError,
  QueryFailedError,
  UnknownWorkflowTypeError,
  WfError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowNotRunningError,
} from '../common/errors.js';
import type {
  CallSite,
  FailureInfo,
  HistoryEvent,
  NewEvent,
  TimeoutType,
  WorkflowExecutionStarted,
} from '../history/events.js';
import { CLOSING_EVENT_TYPES } from '../history/events.js';
import { HistoryCorruptError, type HistoryStore, type RunKey, type RunSummary } from '../history/store.js';
import { CancelledFailure, errorToFailure, failureToError, TimeoutFailure } from '../workflow/failures.js';
import { attemptDeadline, retryDelay, toRecordable } from './activity-runner.js';
import { type Clock, RealClock, type TimerHandle } from './clock.js';
import { NonDeterminismError } from './errors.js';
import { RunExecutor } from './executor.js';
import { GUARD_WINDOW_MS, type WorkflowSandbox } from './sandbox.js';
import type {
  EventNotice,
  FiredTimer,
  ListRequest,
  ListResponse,
  ResultRequest,
  RunDescription,
  RunRef,
  StartWorkflowRequest,
  StartWorkflowResponse,
  WorkflowOutcome,
  WorkflowService,
} from './service.js';

/** An activity implementation: any async function of JSON-serializable arguments. */
// biome-ignore lint/suspicious/noExplicitAny: any[] parameters let every concrete function type match, as in Temporal's SDK
export type ActivityFunction = (...args: any[]) => unknown;

/** The workflow code an engine runs; swappable (hot reload). */
export interface WorkflowCode {
  sandbox: WorkflowSandbox;
  resolveCallSite?: (stack: string) => CallSite | undefined;
}

export interface EngineLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface EngineOptions {
  store: HistoryStore;
  code: WorkflowCode;
  activities: Record<string, ActivityFunction>;
  clock?: Clock;
  /** Activities running at once; more wait their turn. Default 100. */
  maxConcurrentActivities?: number;
  /** Runs kept in memory; idle runs past this are evicted and rebuilt by replay when they wake. Default 1000. */
  maxCachedRuns?: number;
  logger?: EngineLogger;
  /** Told when a run pauses (with the reason) or resumes (reason undefined): for live views. */
  onPauseChange?: (run: RunKey, reason: string | undefined) => void;
}

type Work = {
  /** Events that do not wake the workflow, recorded first (activity attempts, rejected updates). */
  info?: NewEvent[];
  /** The event that wakes the workflow. */
  input?: NewEvent;
  /** An event that closes the run from outside (terminate, run timeout). */
  close?: NewEvent;
  update?: { id: string; name: string; args: unknown[] };
  /** Called once the work's events are durable, or with the error that stopped them. */
  done?: (error?: Error) => void;
};

interface ActivityAttempt {
  seq: number;
  attempt: number;
  controller: AbortController;
  finished: boolean;
  sleeping: number;
  heartbeatTimer?: TimerHandle;
  deadlineTimer?: TimerHandle;
}

interface UpdateWaiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface RunEntry {
  key: RunKey;
  workflowType: string;
  executor?: RunExecutor;
  started: WorkflowExecutionStarted;
  mailbox: Work[];
  processing: boolean;
  slotWaiters: (() => void)[];
  closed: boolean;
  paused?: string;
  pausedAt?: CallSite;
  lastUsed: number;
  resultWaiters: ((outcome: WorkflowOutcome) => void)[];
  /** Callers waiting on each update ID (a retried ID joins the callers already waiting). */
  updateWaiters: Map<string, UpdateWaiter[]>;
  timers: Map<number, TimerHandle>;
  retryTimers: Map<number, TimerHandle>;
  attempts: Map<number, ActivityAttempt>;
  heartbeats: Map<number, unknown>;
  /** Signals to other workflows being delivered now (not re-sent by a reload meanwhile). */
  signalsInFlight: Set<number>;
  runTimeout?: TimerHandle;
}

/**
 * The engine: runs workflows durably over a store and a clock. It carries out what the executor
 * records (activities with retries and timeouts, timers, children, continue-as-new), appends every
 * outcome to the store before anyone hears of it, and rebuilds runs from their histories after a
 * restart or an eviction. `wf dev` runs it on the file store and the real clock; `wfkit/testing`
 * on the memory store and a virtual clock.
 */
export class WorkflowEngine implements WorkflowService {
  private readonly store: HistoryStore;
  private code: WorkflowCode;
  private activities: Record<string, ActivityFunction>;
  readonly clock: Clock;
  private readonly maxConcurrentActivities: number;
  private readonly maxCachedRuns: number;
  private readonly logger: EngineLogger;
  private readonly onPauseChange: ((run: RunKey, reason: string | undefined) => void) | undefined;
  private readonly runs = new Map<string, RunEntry>();
  private readonly startLocks = new Map<string, Promise<unknown>>();
  private readonly listeners = new Set<(notice: EventNotice) => void>();
  private readonly closeWaiters = new Map<string, ((outcome: WorkflowOutcome) => void)[]>();
  /** Why each run the store lists as open could not be loaded at recovery, by run key. */
  private readonly unloadable = new Map<string, string>();
  private runningActivities = 0;
  private workingAttempts = 0;
  private readonly activityQueue: (() => void)[] = [];
  private busy = 0;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  private useCounter = 0;

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.code = options.code;
    this.activities = options.activities;
    this.clock = options.clock ?? new RealClock();
    this.maxConcurrentActivities = options.maxConcurrentActivities ?? 100;
    this.maxCachedRuns = options.maxCachedRuns ?? 1000;
    this.logger = options.logger ?? { info: () => undefined, warn: () => undefined, error: () => undefined };
    this.onPauseChange = options.onPauseChange;
  }

  /** Loads every open run from the store and resumes it where it stopped. */
  async recover(): Promise<{ resumed: number; paused: number }> {
    let resumed = 0;
    let paused = 0;
    await this.finishContinuedChains();
    for (const summary of await this.store.listRuns({ status: 'RUNNING' })) {
      const entry = await this.openEntry(summary);
      if (!entry) continue;
      if (entry.paused) paused++;
      else resumed++;
    }
    return { resumed, paused };
  }

  /** Swaps the workflow code (hot reload): every open run is rebuilt by replay against it. */
  async setCode(
    code: WorkflowCode,
    activities?: Record<string, ActivityFunction>,
  ): Promise<{ paused: string[] }> {
    this.code = code;
    if (activities) this.activities = activities;
    const paused: string[] = [];
    for (const entry of [...this.runs.values()]) {
      if (entry.closed) continue;
      const wasPaused = entry.paused !== undefined;
      try {
        await this.withRun(entry, async () => {
          // Inside the run's slot: an append in flight keeps the executor its effects need.
          entry.executor = undefined;
          entry.paused = undefined;
          await this.load(entry);
        });
      } catch (error) {
        this.pause(entry, error as Error);
      }
      if (entry.paused) paused.push(entry.key.workflowId);
      else {
        if (wasPaused) this.onPauseChange?.(entry.key, undefined);
        // A run paused before (at recovery, or while waiting to retry) has effects to re-arm;
        // re-arming skips whatever is armed or running already.
        this.resumeEffects(entry);
        this.kick(entry);
      }
    }
    return { paused };
  }

  /** Stops timers and activities and waits for in-flight appends. The store stays open. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const entry of this.runs.values()) this.stopEffects(entry);
    await this.waitForIdle(5000);
  }

  // ---- WorkflowService -------------------------------------------------------------------------

  async startWorkflow(req: StartWorkflowRequest): Promise<StartWorkflowResponse> {
    validateStart(req);
    if (!this.code.sandbox.hasWorkflow(req.workflowType)) {
      throw new UnknownWorkflowTypeError(req.workflowType, this.code.sandbox.workflowTypes);
    }
    if (!req.signal) return this.serializeStart(req.workflowId, () => this.startLocked(req));
    const signal = { name: req.signal.name, args: jsonArgs(req.signal.args ?? [], 'signal') };
    for (;;) {
      try {
        return await this.serializeStart(req.workflowId, async () => {
          const open = await this.store.latestRun(req.workflowId);
          if (open?.status !== 'RUNNING') return this.startLocked(req, signal);
          await this.signal(open, signal.name, signal.args);
          return { workflowId: open.workflowId, runId: open.runId, started: false };
        });
      } catch (error) {
        // The open run closed between the look-up and the signal: start a new one with it.
        if (!(error instanceof WorkflowNotRunningError)) throw error;
      }
    }
  }

  async describe(ref: RunRef): Promise<RunDescription> {
    const summary = await this.summaryOf(ref);
    const description: RunDescription = { ...summary, pendingActivities: [], pendingTimers: [] };
    const entry = this.runs.get(runKeyString(summary));
    if (entry && !entry.closed) {
      if (entry.paused) {
        description.paused = {
          reason: entry.paused,
          ...(entry.pausedAt ? { callSite: entry.pausedAt } : {}),
        };
      }
      const executor = entry.executor ?? (await this.tryLoad(entry));
      if (executor) {
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
    }
    return description;
  }

  async list(req: ListRequest = {}): Promise<ListResponse> {
    const { pageSize = 100, nextPageToken, ...filter } = req;
    const all = await this.store.listRuns(filter);
    const offset = nextPageToken ? decodePageToken(nextPageToken) : 0;
    const runs = all.slice(offset, offset + pageSize);
    const next = offset + pageSize < all.length ? encodePageToken(offset + pageSize) : undefined;
    return next ? { runs, nextPageToken: next } : { runs };
  }

  async history(ref: RunRef): Promise<HistoryEvent[]> {
    const summary = await this.summaryOf(ref);
    return this.store.readHistory(summary);
  }

  async signal(ref: RunRef, signalName: string, args: unknown[], requestId?: string): Promise<void> {
    const entry = await this.openRun(ref, { evenIfPaused: true });
    const input: NewEvent = {
      type: 'WorkflowSignaled',
      signalName,
      args: jsonArgs(args, 'signal'),
      ...(requestId === undefined ? {} : { requestId }),
    };
    // A paused run still takes signals: they are recorded now and delivered when it resumes.
    if (entry.paused) await this.appendWhilePaused(entry, input);
    else await this.submit(entry, { input });
  }

  async query(ref: RunRef, queryName: string, args: unknown[]): Promise<unknown> {
    const summary = await this.summaryOf(ref);
    const entry = this.runs.get(runKeyString(summary));
    let executor: RunExecutor;
    if (entry && !entry.closed) {
      executor = entry.executor ?? (await this.withRun(entry, () => this.load(entry)));
    } else {
      const history = await this.store.readHistory(summary);
      executor = RunExecutor.replay(history, this.executorOptions()).executor;
    }
    const outcome = executor.query(queryName, jsonArgs(args, 'query'));
    if (!outcome.ok) {
      throw new QueryFailedError(outcome.failure.message, {
        notRegistered: outcome.failure.name === 'QueryNotRegistered',
      });
    }
    return outcome.result;
  }

  async update(ref: RunRef, updateName: string, args: unknown[], updateId?: string): Promise<unknown> {
    const entry = await this.openRun(ref);
    const id = updateId ?? randomUUID();
    return new Promise<unknown>((resolve, reject) => {
      const waiter = { resolve, reject };
      entry.updateWaiters.set(id, [...(entry.updateWaiters.get(id) ?? []), waiter]);
      this.enqueue(entry, {
        update: { id, name: updateName, args: jsonArgs(args, 'update') },
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
    const entry = await this.openRun(ref, { evenIfPaused: true });
    const input: NewEvent = {
      type: 'WorkflowExecutionCancelRequested',
      ...(reason === undefined ? {} : { reason }),
    };
    if (entry.paused) await this.appendWhilePaused(entry, input);
    else await this.submit(entry, { input });
  }

  async terminate(ref: RunRef, reason?: string): Promise<void> {
    const entry = await this.openRun(ref, { evenIfPaused: true });
    if (entry.paused) {
      await this.terminatePaused(entry, reason);
      return;
    }
    await this.submit(entry, {
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
    const entry = await this.openRun(ref);
    const executor = await this.withRun(entry, () => this.load(entry));
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
    await this.submit(entry, { input: { type: 'TimerFired', seq: timer.seq } });
    return {
      workflowId: entry.key.workflowId,
      runId: entry.key.runId,
      seq: timer.seq,
      fireAt: new Date(timer.fireAt).toISOString(),
      firedAt: new Date(this.clock.now()).toISOString(),
    };
  }

  async result(req: ResultRequest): Promise<WorkflowOutcome> {
    let summary = await this.summaryOf(req);
    const follow = req.followRuns ?? true;
    // Wall-clock time, not the engine's Clock: a caller's patience, which skipping time must not cut short.
    const deadline = req.waitTimeoutMs === undefined ? undefined : Date.now() + req.waitTimeoutMs;
    for (;;) {
      const outcome = await this.outcomeOf(summary, deadline);
      if (outcome.status === 'CONTINUED_AS_NEW' && follow) {
        summary = await this.summaryOf({ workflowId: summary.workflowId, runId: outcome.newRunId });
        continue;
      }
      return outcome;
    }
  }

  subscribe(listener: (notice: EventNotice) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- idleness (for time skipping) --------------------------------------------------------------

  /** True when nothing is in flight: no appends, no activations, no activity doing real work. */
  isIdle(): boolean {
    return this.busy === 0 && this.activeAttempts() === 0;
  }

  /**
   * Resolves once the engine is idle (or after `timeoutMs`). Polls on wall-clock time, not the
   * engine's Clock: a virtual clock stands still while the engine settles.
   */
  async waitForIdle(timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.isIdle() && Date.now() < end) {
      await new Promise<void>((resolve) => {
        this.idleWaiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }

  /** Attempts doing real work (not waiting in `Context.sleep`), plus attempts waiting for a slot. */
  private activeAttempts(): number {
    return this.workingAttempts + this.activityQueue.length;
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }

  private async track<T>(fn: () => Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await fn();
    } finally {
      this.busy--;
      this.notifyIdle();
    }
  }

  // ---- starting runs -----------------------------------------------------------------------------

  private async serializeStart<T>(workflowId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.startLocks.get(workflowId) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.startLocks.set(workflowId, settled);
    try {
      return await next;
    } finally {
      if (this.startLocks.get(workflowId) === settled) this.startLocks.delete(workflowId);
    }
  }

  private async startLocked(
    req: StartWorkflowRequest,
    signal?: { name: string; args: unknown[] },
  ): Promise<StartWorkflowResponse> {
    const existing = await this.store.latestRun(req.workflowId);
    if (existing) {
      if (existing.status === 'RUNNING') {
        if (req.workflowIdConflictPolicy === 'USE_EXISTING') {
          return { workflowId: existing.workflowId, runId: existing.runId, started: false };
        }
        throw new WorkflowExecutionAlreadyStartedError(
          req.workflowId,
          existing.workflowType,
          existing.runId,
          'is already running; wait for it, cancel it, or start with workflowIdConflictPolicy USE_EXISTING',
        );
      }
      const policy = req.workflowIdReusePolicy ?? 'ALLOW_DUPLICATE';
      const failedLike = ['FAILED', 'CANCELED', 'TERMINATED', 'TIMED_OUT'].includes(existing.status);
      if (policy === 'REJECT_DUPLICATE' || (policy === 'ALLOW_DUPLICATE_FAILED_ONLY' && !failedLike)) {
        throw new WorkflowExecutionAlreadyStartedError(
          req.workflowId,
          existing.workflowType,
          existing.runId,
          `already ran (${existing.status.toLowerCase()}) and the reuse policy ${policy} refuses a new run`,
        );
      }
    }
    const runId = randomUUID();
    await this.createRun({
      workflowType: req.workflowType,
      workflowId: req.workflowId,
      runId,
      args: jsonArgs(req.args ?? [], 'workflow'),
      firstRunId: runId,
      ...(req.runTimeoutMs === undefined ? {} : { runTimeoutMs: req.runTimeoutMs }),
      ...(req.memo === undefined ? {} : { memo: req.memo }),
      ...(signal ? { signal } : {}),
    });
    return { workflowId: req.workflowId, runId, started: true };
  }

  private async createRun(start: {
    workflowType: string;
    workflowId: string;
    runId: string;
    args: unknown[];
    firstRunId: string;
    runTimeoutMs?: number;
    memo?: Record<string, unknown>;
    continuedFromRunId?: string;
    parent?: WorkflowExecutionStarted['parent'];
    signal?: { name: string; args: unknown[] };
  }): Promise<RunEntry> {
    return this.track(async () => {
      const now = this.clock.now();
      const { signal, ...started } = start;
      const { executor, events } = RunExecutor.start(
        { ...started, randomnessSeed: randomUUID(), attempt: 1 },
        now,
        this.executorOptions(),
        signal,
      );
      const entry = this.newEntry(executor.started);
      entry.executor = executor;
      entry.processing = true;
      this.runs.set(runKeyString(entry.key), entry);
      try {
        await this.store.append(entry.key, events);
      } catch (error) {
        this.runs.delete(runKeyString(entry.key));
        throw error;
      }
      this.armRunTimeout(entry);
      await this.afterAppend(entry, events);
      this.releaseSlot(entry);
      return entry;
    });
  }

  private newEntry(started: WorkflowExecutionStarted): RunEntry {
    return {
      key: { workflowId: started.workflowId, runId: started.runId },
      workflowType: started.workflowType,
      started,
      mailbox: [],
      processing: false,
      slotWaiters: [],
      closed: false,
      lastUsed: this.useCounter++,
      resultWaiters: [],
      updateWaiters: new Map(),
      timers: new Map(),
      retryTimers: new Map(),
      attempts: new Map(),
      heartbeats: new Map(),
      signalsInFlight: new Set(),
    };
  }

  // ---- the mailbox -------------------------------------------------------------------------------

  private submit(entry: RunEntry, work: Omit<Work, 'done'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.enqueue(entry, { ...work, done: (error) => (error ? reject(error) : resolve()) });
    });
  }

  private enqueue(entry: RunEntry, work: Work): void {
    if (this.stopped) {
      work.done?.(new WfError('UNAVAILABLE', 'the engine is shutting down'));
      return;
    }
    entry.mailbox.push(work);
    this.kick(entry);
  }

  private kick(entry: RunEntry): void {
    if (entry.processing || entry.mailbox.length === 0 || entry.paused) return;
    entry.processing = true;
    void this.track(() => this.drain(entry)).catch((error: unknown) => {
      this.logger.error(`run ${entry.key.workflowId}: ${(error as Error).message}`);
    });
  }

  private async drain(entry: RunEntry): Promise<void> {
    try {
      while (entry.mailbox.length > 0 && !entry.paused) {
        const batch = entry.mailbox.splice(0);
        let executor: RunExecutor;
        try {
          executor = await this.load(entry);
        } catch (error) {
          // The code no longer replays this history (or the store failed): keep the work, pause the run.
          entry.mailbox.unshift(...batch.filter((w) => !w.done));
          this.pause(entry, error as Error);
          for (const work of batch) work.done?.(error as Error);
          return;
        }
        const now = this.clock.now();
        const events: HistoryEvent[] = [];
        const after: (() => void)[] = [];
        try {
          // One deadlock watchdog for the whole batch; its events are discarded if it fires.
          executor.guard(() => {
            const until = performance.now() + GUARD_WINDOW_MS;
            for (let i = 0; i < batch.length; i++) {
              if (i > 0 && performance.now() > until) {
                // The rest waits for the next round (and its own watchdog window).
                entry.mailbox.unshift(...batch.splice(i));
                break;
              }
              const work = batch[i]!;
              if (executor.status !== 'RUNNING') {
                after.push(() =>
                  work.done?.(
                    new WorkflowNotRunningError(entry.key.workflowId, entry.key.runId, executor.status),
                  ),
                );
                continue;
              }
              const info = work.info?.filter(
                (e) => e.type !== 'ActivityTaskCanceled' || executor.activities.has(e.seq),
              );
              if (info?.length) events.push(...executor.record(info, now));
              if (work.close) events.push(...executor.record([work.close], now));
              if (work.update) {
                const { id, name, args } = work.update;
                const settled = executor.completedUpdates.get(id);
                if (settled) {
                  // The same update ID again (a client retry): answer with the recorded outcome.
                  const waiters = entry.updateWaiters.get(id) ?? [];
                  entry.updateWaiters.delete(id);
                  after.push(() => settleUpdate(waiters, settled));
                  continue;
                }
                if (executor.openUpdates.has(id)) continue; // accepted already: its waiters hear when it completes
                const validation = executor.validateUpdate(id, name, args);
                if (!validation.accepted) {
                  events.push(
                    ...executor.record(
                      [
                        {
                          type: 'WorkflowUpdateRejected',
                          updateId: id,
                          updateName: name,
                          failure: validation.failure,
                        },
                      ],
                      now,
                    ),
                  );
                  const waiters = entry.updateWaiters.get(id) ?? [];
                  entry.updateWaiters.delete(id);
                  after.push(() =>
                    rejectAll(
                      waiters,
                      new WfError(
                        'UPDATE_REJECTED',
                        `update ${name} rejected: ${validation.failure.message}`,
                      ),
                    ),
                  );
                  continue;
                }
                events.push(
                  ...executor.handle(
                    { type: 'WorkflowUpdateAccepted', updateId: id, updateName: name, args },
                    now,
                  ),
                );
              }
              const input = work.input;
              if (
                input?.type === 'WorkflowSignaled' &&
                input.requestId &&
                executor.signalRequests.has(input.requestId)
              ) {
                // The same signal request again (a retry, or a re-send after a crash): recorded once.
                if (work.done) after.push(() => work.done?.());
                continue;
              }
              if (input?.type === 'TimerFired' && !executor.timers.has(input.seq)) {
                // Fired by hand (`wf timer fire`) or cancelled while this firing waited in the mailbox.
                if (work.done) after.push(() => work.done?.());
                continue;
              }
              if (
                input &&
                (input.type === 'ChildWorkflowExecutionCompleted' ||
                  input.type === 'ChildWorkflowExecutionFailed') &&
                !executor.children.has(input.seq)
              ) {
                // Heard already (a child's chain reports its end both from its last run and on recovery).
              } else if (input) events.push(...executor.handle(input, now));
              if (work.done) after.push(() => work.done?.());
            }
          });
        } catch (error) {
          // The executor's state is ahead of the store now: drop it, keep the history as it is.
          // Outcomes from the world (activity results, timers) stay queued for when the run resumes.
          entry.executor = undefined;
          entry.mailbox.unshift(...batch.filter((w) => !w.done));
          this.pause(entry, error as Error);
          for (const work of batch) work.done?.(error as Error);
          return;
        }
        if (events.length > 0) {
          try {
            await this.store.append(entry.key, events);
          } catch (error) {
            entry.executor = undefined;
            entry.mailbox.unshift(...batch.filter((w) => !w.done));
            this.pause(entry, error as Error);
            for (const work of batch) work.done?.(error as Error);
            return;
          }
          await this.afterAppend(entry, events);
        }
        for (const fn of after) fn();
      }
    } finally {
      this.releaseSlot(entry);
    }
  }

  /** Frees the run's processing slot: queued work goes first, then anyone waiting for the slot. */
  private releaseSlot(entry: RunEntry): void {
    entry.processing = false;
    this.kick(entry);
    if (entry.processing) return;
    for (const wake of entry.slotWaiters.splice(0)) wake();
    this.evictIfNeeded();
  }

  private pause(entry: RunEntry, error: Error): void {
    entry.paused = error.message;
    this.onPauseChange?.(entry.key, entry.paused);
    const site = error instanceof NonDeterminismError ? error.codeSite : undefined;
    if (site) entry.pausedAt = site;
    else delete entry.pausedAt;
    this.logger.error(`workflow ${entry.key.workflowId} paused: ${error.message}`);
  }

  /** The run's executor, rebuilt from its history if it was evicted. */
  private async load(entry: RunEntry): Promise<RunExecutor> {
    entry.lastUsed = this.useCounter++;
    if (entry.executor) return entry.executor;
    const history = await this.store.readHistory(entry.key);
    const { executor, events } = RunExecutor.replay(history, this.executorOptions());
    entry.executor = executor;
    if (events.length > 0) {
      await this.store.append(entry.key, events);
      await this.afterAppend(entry, events);
    }
    return executor;
  }

  private async tryLoad(entry: RunEntry): Promise<RunExecutor | undefined> {
    if (entry.processing) return entry.executor;
    try {
      return await this.withRun(entry, () => this.load(entry));
    } catch {
      return undefined;
    }
  }

  /** Runs `fn` while holding the run's processing slot. */
  private async withRun<T>(entry: RunEntry, fn: () => Promise<T>): Promise<T> {
    while (entry.processing) await new Promise<void>((resolve) => entry.slotWaiters.push(resolve));
    entry.processing = true;
    try {
      return await fn();
    } finally {
      this.releaseSlot(entry);
    }
  }

  private evictIfNeeded(): void {
    if (this.runs.size <= this.maxCachedRuns) return;
    const loaded = [...this.runs.values()].filter(
      (e) => e.executor && !e.processing && e.mailbox.length === 0,
    );
    if (loaded.length <= this.maxCachedRuns) return;
    loaded.sort((a, b) => a.lastUsed - b.lastUsed);
    for (const entry of loaded.slice(0, loaded.length - this.maxCachedRuns)) {
      if (entry.updateWaiters.size > 0) continue;
      entry.executor = undefined;
    }
  }

  private executorOptions() {
    const { sandbox, resolveCallSite } = this.code;
    return resolveCallSite ? { sandbox, resolveCallSite } : { sandbox };
  }

  // ---- effects of recorded events ----------------------------------------------------------------

  private async afterAppend(entry: RunEntry, events: HistoryEvent[]): Promise<void> {
    for (const event of events) {
      this.publish(entry, event);
      switch (event.type) {
        case 'ActivityTaskScheduled':
          this.scheduleAttempt(entry, event.seq);
          break;
        case 'ActivityTaskFailed':
        case 'ActivityTaskTimedOut':
          if (event.nextRetryDelayMs !== undefined) this.scheduleAttempt(entry, event.seq);
          else entry.heartbeats.delete(event.seq);
          break;
        case 'ActivityTaskCompleted':
        case 'ActivityTaskCanceled':
          entry.heartbeats.delete(event.seq);
          break;
        case 'ActivityTaskCancelRequested':
          this.cancelActivity(entry, event.seq);
          break;
        case 'TimerStarted':
          this.armTimer(entry, event.seq, Date.parse(event.fireAt));
          break;
        case 'TimerCanceled':
          entry.timers.get(event.seq)?.cancel();
          entry.timers.delete(event.seq);
          break;
        case 'ChildWorkflowExecutionStarted':
          await this.startChildRun(entry, event.seq);
          break;
        case 'SignalExternalWorkflowExecutionInitiated':
          this.sendExternalSignal(entry, event.seq);
          break;
        case 'RequestCancelExternalWorkflowExecutionInitiated':
          this.sendExternalCancel(entry, event.seq);
          break;
        case 'ChildWorkflowExecutionCancelRequested':
          this.cancelChild(entry, event.seq);
          break;
        case 'WorkflowUpdateCompleted': {
          const waiters = entry.updateWaiters.get(event.updateId) ?? [];
          entry.updateWaiters.delete(event.updateId);
          settleUpdate(waiters, event);
          break;
        }
        default:
          if (CLOSING_EVENT_TYPES.has(event.type)) await this.onClosed(entry, event);
      }
    }
  }

  private publish(entry: RunEntry, event: HistoryEvent): void {
    if (this.listeners.size === 0) return;
    const notice: EventNotice = { workflowId: entry.key.workflowId, runId: entry.key.runId, event };
    for (const listener of this.listeners) {
      try {
        listener(notice);
      } catch (error) {
        this.logger.warn(`event listener failed: ${(error as Error).message}`);
      }
    }
  }

  private armTimer(entry: RunEntry, seq: number, fireAt: number): void {
    if (this.stopped || entry.timers.has(seq)) return;
    const handle = this.clock.setTimer(fireAt, () => {
      entry.timers.delete(seq);
      this.enqueue(entry, { input: { type: 'TimerFired', seq } });
    });
    entry.timers.set(seq, handle);
  }

  private armRunTimeout(entry: RunEntry): void {
    const timeout = entry.started.runTimeoutMs;
    if (timeout === undefined || this.stopped) return;
    const at = Date.parse(entry.started.eventTime) + timeout;
    entry.runTimeout?.cancel();
    entry.runTimeout = this.clock.setTimer(at, () => {
      if (!entry.closed) this.enqueue(entry, { close: { type: 'WorkflowExecutionTimedOut' } });
    });
  }

  private async onClosed(entry: RunEntry, event: HistoryEvent): Promise<void> {
    entry.closed = true;
    this.stopEffects(entry);
    const outcome = outcomeOfClosing(event);
    const key = runKeyString(entry.key);
    this.runs.delete(key);
    for (const [, waiters] of entry.updateWaiters) {
      rejectAll(waiters, new WorkflowNotRunningError(entry.key.workflowId, entry.key.runId, outcome.status));
    }
    entry.updateWaiters.clear();
    for (const child of entry.executor?.children.values() ?? []) {
      if (child.parentClosePolicy !== 'ABANDON') this.applyParentClosePolicy(entry, child);
    }
    if (event.type === 'WorkflowExecutionContinuedAsNew' && !this.stopped) {
      // The next run exists before anyone waiting on this one follows the chain to it.
      try {
        await this.continueChain(entry.started, event.newRunId, event.workflowType, event.args);
      } catch (error) {
        this.logger.error(
          `workflow ${entry.key.workflowId}: could not continue as new: ${(error as Error).message}`,
        );
      }
    }
    for (const waiter of entry.resultWaiters.splice(0)) waiter(outcome);
    for (const waiter of this.closeWaiters.get(key) ?? []) waiter(outcome);
    this.closeWaiters.delete(key);
    if (entry.started.parent) await this.notifyParent(entry.started, outcome);
  }

  /** Terminates or cancels a child (the latest run of its chain) when its parent closes. */
  private applyParentClosePolicy(
    parent: RunEntry,
    child: { workflowId: string; parentClosePolicy: string },
  ): void {
    const reason = `parent ${parent.key.workflowId} closed`;
    const ref = { workflowId: child.workflowId };
    const action =
      child.parentClosePolicy === 'TERMINATE' ? this.terminate(ref, reason) : this.cancel(ref, reason);
    action.catch(() => undefined);
  }

  private async continueChain(
    previous: WorkflowExecutionStarted,
    runId: string,
    workflowType: string,
    args: unknown[],
  ): Promise<void> {
    await this.createRun({
      workflowType,
      workflowId: previous.workflowId,
      runId,
      args,
      firstRunId: previous.firstRunId,
      continuedFromRunId: previous.runId,
      ...(previous.runTimeoutMs === undefined ? {} : { runTimeoutMs: previous.runTimeoutMs }),
      ...(previous.memo === undefined ? {} : { memo: previous.memo }),
      ...(previous.parent === undefined ? {} : { parent: previous.parent }),
    });
  }

  private stopEffects(entry: RunEntry): void {
    for (const timer of entry.timers.values()) timer.cancel();
    entry.timers.clear();
    for (const timer of entry.retryTimers.values()) timer.cancel();
    entry.retryTimers.clear();
    entry.runTimeout?.cancel();
    for (const attempt of entry.attempts.values()) {
      if (!attempt.finished) attempt.controller.abort(new CancelledFailure('the workflow closed'));
    }
  }

  // ---- activities --------------------------------------------------------------------------------

  private scheduleAttempt(entry: RunEntry, seq: number): void {
    if (this.stopped) return;
    const pending = entry.executor?.activities.get(seq);
    if (!pending || pending.cancelRequested || entry.attempts.get(seq)?.finished === false) return;
    const begin = () => {
      entry.retryTimers.delete(seq);
      this.acquireActivitySlot(() => this.runAttempt(entry, seq));
    };
    if (pending.retryAt !== undefined && pending.retryAt > this.clock.now()) {
      entry.retryTimers.get(seq)?.cancel();
      entry.retryTimers.set(seq, this.clock.setTimer(pending.retryAt, begin));
    } else begin();
  }

  private acquireActivitySlot(fn: () => void): void {
    if (this.runningActivities < this.maxConcurrentActivities) {
      this.runningActivities++;
      fn();
    } else this.activityQueue.push(fn);
  }

  private releaseActivitySlot(): void {
    const next = this.activityQueue.shift();
    if (next) next();
    else this.runningActivities--;
    this.notifyIdle();
  }

  private runAttempt(entry: RunEntry, seq: number): void {
    if (!entry.executor && !entry.closed && !this.stopped) {
      // Evicted while waiting to retry: rebuild it, then start the attempt.
      this.workingAttempts++;
      void this.withRun(entry, () => this.load(entry))
        .then(
          () => undefined,
          (error: unknown) => this.pause(entry, error as Error),
        )
        .finally(() => {
          this.workingAttempts--;
          if (entry.paused) this.releaseActivitySlot();
          else this.runAttempt(entry, seq);
        });
      return;
    }
    const pending = entry.executor?.activities.get(seq);
    if (!pending || entry.closed || this.stopped) {
      this.releaseActivitySlot();
      return;
    }
    const { scheduled } = pending;
    const attemptNo = pending.attempt;
    const startedAt = this.clock.now();
    const scheduledAt = Date.parse(scheduled.eventTime);
    const controller = new AbortController();
    const attempt: ActivityAttempt = { seq, attempt: attemptNo, controller, finished: false, sleeping: 0 };
    entry.attempts.set(seq, attempt);
    this.workingAttempts++;
    const options = scheduled.options;
    const scheduleToCloseDeadline =
      options.scheduleToCloseTimeoutMs === undefined
        ? undefined
        : scheduledAt + options.scheduleToCloseTimeoutMs;

    const finish = (work: Work) => {
      if (attempt.finished) return;
      attempt.finished = true;
      if (attempt.sleeping === 0) this.workingAttempts--;
      if (entry.attempts.get(seq) === attempt) entry.attempts.delete(seq);
      attempt.deadlineTimer?.cancel();
      attempt.heartbeatTimer?.cancel();
      this.releaseActivitySlot();
      if (entry.closed || this.stopped) return;
      this.enqueue(entry, work);
    };
    const startedEvent: NewEvent = { type: 'ActivityTaskStarted', seq, attempt: attemptNo };

    const timedOut = (timeoutType: TimeoutType) => {
      if (attempt.finished) return;
      controller.abort(
        new TimeoutFailure(`activity ${scheduled.activityType} timed out (${timeoutType})`, timeoutType),
      );
      const delay = retryDelay({
        policy: options.retry,
        attempt: attemptNo,
        timeoutType,
        now: this.clock.now(),
        ...(scheduleToCloseDeadline === undefined ? {} : { scheduleToCloseDeadline }),
      });
      const timedOutEvent: NewEvent = {
        type: 'ActivityTaskTimedOut',
        seq,
        attempt: attemptNo,
        timeoutType,
        ...(delay === undefined ? {} : { nextRetryDelayMs: delay }),
      };
      finish(
        delay === undefined
          ? { info: [startedEvent], input: timedOutEvent }
          : { info: [startedEvent, timedOutEvent] },
      );
    };

    const deadline = attemptDeadline(options, startedAt, scheduledAt);
    if (deadline) attempt.deadlineTimer = this.clock.setTimer(deadline.at, () => timedOut(deadline.type));
    const armHeartbeat = () => {
      if (options.heartbeatTimeoutMs === undefined) return;
      attempt.heartbeatTimer?.cancel();
      attempt.heartbeatTimer = this.clock.setTimer(this.clock.now() + options.heartbeatTimeoutMs, () =>
        timedOut('HEARTBEAT'),
      );
    };
    armHeartbeat();

    if (pending.cancelRequested) {
      finish({ info: [{ type: 'ActivityTaskCanceled', seq }] });
      return;
    }

    const fn = this.activities[scheduled.activityType];
    if (typeof fn !== 'function') {
      const known = Object.keys(this.activities);
      finish({
        info: [startedEvent],
        input: {
          type: 'ActivityTaskFailed',
          seq,
          attempt: attemptNo,
          failure: {
            name: 'ApplicationFailure',
            type: 'ActivityNotRegistered',
            nonRetryable: true,
            message: `activity ${JSON.stringify(scheduled.activityType)} is not registered: export it from your activities module${
              known.length ? ` (registered: ${known.join(', ')})` : ''
            }`,
          },
        },
      });
      return;
    }

    const context = new Context(
      {
        workflowId: entry.key.workflowId,
        runId: entry.key.runId,
        workflowType: entry.workflowType,
        activityId: scheduled.activityId,
        activityType: scheduled.activityType,
        attempt: attemptNo,
        idempotencyKey: `${entry.key.workflowId}/${entry.key.runId}/${scheduled.activityId}`,
        scheduledTime: new Date(scheduledAt),
        heartbeatDetails: entry.heartbeats.get(seq),
        ...(options.startToCloseTimeoutMs === undefined
          ? {}
          : { startToCloseTimeoutMs: options.startToCloseTimeoutMs }),
        ...(options.heartbeatTimeoutMs === undefined
          ? {}
          : { heartbeatTimeoutMs: options.heartbeatTimeoutMs }),
      },
      controller.signal,
      {
        heartbeat: (details) => {
          if (attempt.finished) return;
          if (details !== undefined) entry.heartbeats.set(seq, details);
          armHeartbeat();
        },
        sleep: (ms, signal) => this.activitySleep(attempt, ms, signal),
      },
    );

    const onFailure = (error: unknown) => {
      if (attempt.finished) return;
      if (controller.signal.aborted && controller.signal.reason instanceof CancelledFailure) {
        finish({ info: [startedEvent, { type: 'ActivityTaskCanceled', seq }] });
        return;
      }
      const failure = errorToFailure(error);
      const delay = retryDelay({
        policy: options.retry,
        attempt: attemptNo,
        failure,
        now: this.clock.now(),
        ...(scheduleToCloseDeadline === undefined ? {} : { scheduleToCloseDeadline }),
      });
      const failedEvent: NewEvent = {
        type: 'ActivityTaskFailed',
        seq,
        attempt: attemptNo,
        failure,
        ...(delay === undefined ? {} : { nextRetryDelayMs: delay }),
      };
      finish(
        delay === undefined
          ? { info: [startedEvent], input: failedEvent }
          : { info: [startedEvent, failedEvent] },
      );
    };

    let promise: Promise<unknown>;
    try {
      promise = Promise.resolve(context.run(() => fn(...(scheduled.args as unknown[]))));
    } catch (error) {
      onFailure(error);
      return;
    }
    promise.then((value) => {
      if (attempt.finished) return;
      if (controller.signal.aborted && controller.signal.reason instanceof CancelledFailure) {
        finish({ info: [startedEvent, { type: 'ActivityTaskCanceled', seq }] });
        return;
      }
      const recordable = toRecordable(value);
      if (!recordable.ok) {
        onFailure(Object.assign(new Error(recordable.failure.message), { name: 'NonSerializableResult' }));
        return;
      }
      finish({
        info: [startedEvent],
        input: { type: 'ActivityTaskCompleted', seq, attempt: attemptNo, result: recordable.value },
      });
    }, onFailure);
  }

  private activitySleep(attempt: ActivityAttempt, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      attempt.sleeping++;
      if (attempt.sleeping === 1 && !attempt.finished) this.workingAttempts--;
      this.notifyIdle();
      const done = () => {
        attempt.sleeping--;
        if (attempt.sleeping === 0 && !attempt.finished) this.workingAttempts++;
        signal.removeEventListener('abort', onAbort);
      };
      const timer = this.clock.setTimer(this.clock.now() + ms, () => {
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

  private cancelActivity(entry: RunEntry, seq: number): void {
    const retry = entry.retryTimers.get(seq);
    if (retry) {
      retry.cancel();
      entry.retryTimers.delete(seq);
      this.enqueue(entry, { info: [{ type: 'ActivityTaskCanceled', seq }] });
      return;
    }
    const attempt = entry.attempts.get(seq);
    if (attempt && !attempt.finished)
      attempt.controller.abort(new CancelledFailure('activity cancelled by the workflow'));
  }

  /**
   * Asks a child to cancel: the latest run of its chain (continue-as-new keeps the first run ID), and
   * never an unrelated workflow that reuses the ID. Sent again after a restart until the child closes.
   */
  private cancelChild(entry: RunEntry, seq: number): void {
    const child = entry.executor?.children.get(seq);
    if (!child || this.stopped) return;
    const reason = `parent ${entry.key.workflowId} cancelled it`;
    void (async () => {
      const latest = await this.store.latestRun(child.workflowId);
      if (latest?.status !== 'RUNNING') return;
      const first = (await this.store.readHistory(latest))[0];
      if (first?.type !== 'WorkflowExecutionStarted' || first.firstRunId !== child.runId) return;
      await this.cancel(latest, reason);
    })().catch((error: unknown) =>
      this.logger.warn(`cancelling child ${child.workflowId}: ${(error as Error).message}`),
    );
  }

  /** Delivers a cancel request a workflow sends to another, then tells the sender how it went. */
  private sendExternalCancel(entry: RunEntry, seq: number): void {
    const pending = entry.executor?.externalCancels.get(seq);
    const key = -seq; // in-flight keys: signals by seq, cancels by -seq
    if (!pending || this.stopped || entry.signalsInFlight.has(key)) return;
    entry.signalsInFlight.add(key);
    const ref =
      pending.runId === undefined
        ? { workflowId: pending.workflowId }
        : { workflowId: pending.workflowId, runId: pending.runId };
    this.cancel(ref, `requested by workflow ${entry.key.workflowId}`).then(
      () => {
        entry.signalsInFlight.delete(key);
        this.enqueue(entry, { input: { type: 'ExternalWorkflowExecutionCancelRequested', seq } });
      },
      (error: unknown) => {
        entry.signalsInFlight.delete(key);
        this.enqueue(entry, {
          input: {
            type: 'RequestCancelExternalWorkflowExecutionFailed',
            seq,
            failure: errorToFailure(error),
          },
        });
      },
    );
  }

  /** Delivers a signal a workflow sends to another, then tells the sender how it went. */
  private sendExternalSignal(entry: RunEntry, seq: number): void {
    const pending = entry.executor?.externalSignals.get(seq);
    if (!pending || this.stopped || entry.signalsInFlight.has(seq)) return;
    entry.signalsInFlight.add(seq);
    const sent = () => entry.signalsInFlight.delete(seq);
    const ref =
      pending.runId === undefined
        ? { workflowId: pending.workflowId }
        : { workflowId: pending.workflowId, runId: pending.runId };
    this.signal(ref, pending.signalName, pending.args, `${entry.key.runId}:${seq}`).then(
      () => {
        sent();
        this.enqueue(entry, { input: { type: 'ExternalWorkflowExecutionSignaled', seq } });
      },
      (error: unknown) => {
        sent();
        this.enqueue(entry, {
          input: { type: 'SignalExternalWorkflowExecutionFailed', seq, failure: errorToFailure(error) },
        });
      },
    );
  }

  // ---- children ----------------------------------------------------------------------------------

  private async startChildRun(parent: RunEntry, seq: number): Promise<void> {
    const child = parent.executor?.children.get(seq);
    if (!child || this.stopped) return;
    const own = (await this.store.listRuns({ workflowId: child.workflowId })).find(
      (r) => r.runId === child.runId,
    );
    if (own) {
      // Started before (a restart, a reload): if its chain has closed, the parent still needs to hear.
      if (own.status !== 'RUNNING') {
        void this.deliverChildOutcome(parent, seq, own).catch((error: unknown) =>
          this.logger.error(`child ${child.workflowId}: ${(error as Error).message}`),
        );
      }
      return;
    }
    const existing = await this.store.latestRun(child.workflowId);
    const failStart = (failure: FailureInfo) =>
      this.enqueue(parent, {
        input: {
          type: 'ChildWorkflowExecutionFailed',
          seq,
          failure: {
            name: 'ChildWorkflowFailure',
            message: `child workflow ${child.workflowType} could not start: ${failure.message}`,
            workflowType: child.workflowType,
            cause: failure,
          },
        },
      });
    if (!this.code.sandbox.hasWorkflow(child.workflowType)) {
      failStart(
        errorToFailure(new UnknownWorkflowTypeError(child.workflowType, this.code.sandbox.workflowTypes)),
      );
      return;
    }
    if (existing?.status === 'RUNNING') {
      failStart({
        name: 'ApplicationFailure',
        type: 'WorkflowExecutionAlreadyStarted',
        message: `workflow ${JSON.stringify(child.workflowId)} is already running`,
      });
      return;
    }
    const args = child.args;
    await this.serializeStart(child.workflowId, () =>
      this.createRun({
        workflowType: child.workflowType,
        workflowId: child.workflowId,
        runId: child.runId,
        args,
        firstRunId: child.runId,
        parent: { workflowId: parent.key.workflowId, runId: parent.key.runId, seq },
      }),
    );
  }

  private async notifyParent(started: WorkflowExecutionStarted, outcome: WorkflowOutcome): Promise<void> {
    if (!started.parent || outcome.status === 'CONTINUED_AS_NEW') return;
    const parent = this.runs.get(runKeyString(started.parent));
    if (!parent || parent.closed) return;
    this.enqueue(
      parent,
      childOutcomeWork(started.parent.seq, started.workflowType, started.workflowId, outcome),
    );
  }

  private async deliverChildOutcome(parent: RunEntry, seq: number, child: RunSummary): Promise<void> {
    const outcome = await this.outcomeOf(child, undefined);
    if (outcome.status === 'CONTINUED_AS_NEW') {
      const result = await this.result({ workflowId: child.workflowId, runId: outcome.newRunId });
      this.enqueue(parent, childOutcomeWork(seq, child.workflowType, child.workflowId, result));
      return;
    }
    this.enqueue(parent, childOutcomeWork(seq, child.workflowType, child.workflowId, outcome));
  }

  // ---- recovery ----------------------------------------------------------------------------------

  private async openEntry(summary: RunSummary): Promise<RunEntry | undefined> {
    const key = runKeyString(summary);
    const existing = this.runs.get(key);
    if (existing) return existing;
    let history: HistoryEvent[];
    try {
      history = await this.store.readHistory(summary);
    } catch (error) {
      this.logger.error((error as Error).message);
      this.unloadable.set(key, (error as Error).message);
      return undefined;
    }
    const first = history[0];
    if (first?.type !== 'WorkflowExecutionStarted') {
      this.unloadable.set(key, 'its history does not begin with WorkflowExecutionStarted');
      return undefined;
    }
    this.unloadable.delete(key);
    const entry = this.newEntry(first);
    this.runs.set(key, entry);
    try {
      await this.withRun(entry, async () => {
        await this.load(entry);
      });
    } catch (error) {
      this.pause(entry, error as Error);
      return entry;
    }
    this.resumeEffects(entry);
    return entry;
  }

  /** Re-arms what a recovered run was waiting on: activities, timers, children, its run timeout. */
  private resumeEffects(entry: RunEntry): void {
    const executor = entry.executor;
    if (!executor) return;
    this.armRunTimeout(entry);
    for (const [seq, pending] of executor.activities) {
      if (!pending.cancelRequested) this.scheduleAttempt(entry, seq);
      else if (entry.attempts.get(seq)?.finished !== false && !entry.retryTimers.has(seq)) {
        // Cancelled while nothing ran it (or before a restart): acknowledge the cancellation.
        this.enqueue(entry, { info: [{ type: 'ActivityTaskCanceled', seq }] });
      }
    }
    for (const timer of executor.timers.values()) this.armTimer(entry, timer.seq, timer.fireAt);
    // A signal recorded as sent but not as delivered (a crash between the two) is sent again.
    for (const seq of executor.externalSignals.keys()) this.sendExternalSignal(entry, seq);
    for (const seq of executor.externalCancels.keys()) this.sendExternalCancel(entry, seq);
    for (const child of executor.children.values()) {
      if (child.cancelRequested) this.cancelChild(entry, child.seq);
      void this.startChildRun(entry, child.seq).catch((error: unknown) =>
        this.logger.error(`child ${child.workflowId}: ${(error as Error).message}`),
      );
    }
  }

  /** A crash between closing a run as continued-as-new and starting its next run: start it now. */
  private async finishContinuedChains(): Promise<void> {
    for (const summary of await this.store.listRuns({ status: 'CONTINUED_AS_NEW' })) {
      const latest = await this.store.latestRun(summary.workflowId);
      if (latest?.runId !== summary.runId) continue;
      const history = await this.store.readHistory(summary);
      const first = history[0];
      const last = history[history.length - 1];
      if (first?.type !== 'WorkflowExecutionStarted' || last?.type !== 'WorkflowExecutionContinuedAsNew')
        continue;
      await this.continueChain(first, last.newRunId, last.workflowType, last.args);
    }
  }

  // ---- lookups -----------------------------------------------------------------------------------

  private async summaryOf(ref: RunRef): Promise<RunSummary> {
    if (typeof ref.workflowId !== 'string' || ref.workflowId === '') {
      throw new InvalidArgumentError('a workflow ID is required');
    }
    if (ref.runId) {
      const runs = await this.store.listRuns({ workflowId: ref.workflowId });
      const run = runs.find((r) => r.runId === ref.runId);
      if (!run) throw new WorkflowNotFoundError(ref.workflowId, ref.runId);
      return run;
    }
    const latest = await this.store.latestRun(ref.workflowId);
    if (!latest) throw new WorkflowNotFoundError(ref.workflowId);
    return latest;
  }

  /**
   * Records an input for a paused run straight into its history (there is no executor to activate):
   * the run sees it when it is rebuilt, as it would after a restart.
   */
  private async appendWhilePaused(entry: RunEntry, input: NewEvent): Promise<void> {
    const recorded = await this.withRun(entry, async () => {
      if (!entry.paused) return false;
      const history = await this.store.readHistory(entry.key);
      const requestId = input.type === 'WorkflowSignaled' ? input.requestId : undefined;
      if (
        requestId !== undefined &&
        history.some((e) => e.type === 'WorkflowSignaled' && e.requestId === requestId)
      ) {
        return true; // The same signal request again (a retry): recorded once, as for a running run.
      }
      const event = {
        ...input,
        eventId: history.length + 1,
        eventTime: new Date(this.clock.now()).toISOString(),
      } as HistoryEvent;
      await this.store.append(entry.key, [event]);
      this.publish(entry, event);
      return true;
    });
    // Resumed meanwhile: the usual path.
    if (!recorded) await this.submit(entry, { input });
  }

  /**
   * A paused run has no executor to number events with (its code does not replay its history), so
   * it is closed by appending to the stored history directly.
   */
  private async terminatePaused(entry: RunEntry, reason: string | undefined): Promise<void> {
    await this.withRun(entry, async () => {
      const history = await this.store.readHistory(entry.key);
      const event: HistoryEvent = {
        eventId: history.length + 1,
        eventTime: new Date(this.clock.now()).toISOString(),
        type: 'WorkflowExecutionTerminated',
        ...(reason === undefined ? {} : { reason }),
      };
      await this.store.append(entry.key, [event]);
      entry.mailbox.length = 0;
      // No executor to ask for the open children: read them off the history.
      const open = new Map<number, { workflowId: string; parentClosePolicy: string }>();
      for (const e of history) {
        if (e.type === 'ChildWorkflowExecutionStarted') open.set(e.seq, e);
        else if (e.type === 'ChildWorkflowExecutionCompleted' || e.type === 'ChildWorkflowExecutionFailed') {
          open.delete(e.seq);
        }
      }
      for (const child of open.values()) {
        if (child.parentClosePolicy !== 'ABANDON') this.applyParentClosePolicy(entry, child);
      }
      await this.afterAppend(entry, [event]);
    });
  }

  private async openRun(ref: RunRef, options: { evenIfPaused?: boolean } = {}): Promise<RunEntry> {
    const summary = await this.summaryOf(ref);
    if (summary.status === 'CORRUPT') throw corruptRunError(summary);
    const entry = this.runs.get(runKeyString(summary));
    if (!entry && summary.status === 'RUNNING') throw this.notLoadedError(summary);
    if (!entry || entry.closed) {
      throw new WorkflowNotRunningError(summary.workflowId, summary.runId, summary.status);
    }
    if (entry.paused && !options.evenIfPaused) {
      throw new WfError(
        'UNAVAILABLE',
        `workflow ${JSON.stringify(summary.workflowId)} is paused until its code replays its history again:\n${entry.paused}\n` +
          'Fix the code (wf dev reloads it), or terminate the run with `wf terminate`.',
      );
    }
    return entry;
  }

  /**
   * The store lists the run as open but this engine holds no entry for it (its history could not be
   * read at recovery). Saying "not running" would send signal-with-start round again for ever.
   */
  private notLoadedError(summary: RunSummary): WfError {
    const why = this.unloadable.get(runKeyString(summary)) ?? 'it was not loaded at recovery';
    return new WfError(
      'UNAVAILABLE',
      `workflow ${JSON.stringify(summary.workflowId)} (run ${summary.runId}) is open in the store, but this server could not load it: ${why}\n` +
        'Nothing was recorded. Fix the cause (see the server log) and restart wf dev, which loads open runs again.',
    );
  }

  private async outcomeOf(summary: RunSummary, deadline: number | undefined): Promise<WorkflowOutcome> {
    const key = runKeyString(summary);
    const entry = this.runs.get(key);
    if (entry && !entry.closed) {
      return new Promise<WorkflowOutcome>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const waiter = (outcome: WorkflowOutcome) => {
          if (timer) clearTimeout(timer);
          resolve(outcome);
        };
        entry.resultWaiters.push(waiter);
        if (deadline !== undefined) {
          timer = setTimeout(
            () => {
              entry.resultWaiters = entry.resultWaiters.filter((w) => w !== waiter);
              reject(new WfError('UNAVAILABLE', `workflow ${summary.workflowId} is still running`));
            },
            Math.max(0, deadline - Date.now()),
          );
        }
      });
    }
    if (summary.status === 'CORRUPT') throw corruptRunError(summary);
    const history = await this.store.readHistory(summary);
    const last = history[history.length - 1];
    if (!last || !CLOSING_EVENT_TYPES.has(last.type)) {
      // Open in the store but not loaded here (e.g. paused at recovery): wait for it to close.
      return new Promise<WorkflowOutcome>((resolve) => {
        const list = this.closeWaiters.get(key) ?? [];
        list.push(resolve);
        this.closeWaiters.set(key, list);
      });
    }
    return outcomeOfClosing(last);
  }
}

/** The error for any request on a run whose history cannot be read: where, what, and what to do. */
function corruptRunError(summary: RunSummary): WfError {
  const where = summary.corruption
    ? new HistoryCorruptError(summary.corruption).message
    : `the history of workflow ${JSON.stringify(summary.workflowId)} is corrupt`;
  return new WfError('CORRUPT', `workflow ${JSON.stringify(summary.workflowId)} cannot be used: ${where}`);
}

function settleUpdate(waiters: UpdateWaiter[], outcome: { result?: unknown; failure?: FailureInfo }): void {
  for (const waiter of waiters) {
    if (outcome.failure) waiter.reject(failureToError(outcome.failure));
    else waiter.resolve(outcome.result);
  }
}

function rejectAll(waiters: UpdateWaiter[], error: Error): void {
  for (const waiter of waiters) waiter.reject(error);
}

function childOutcomeWork(
  seq: number,
  workflowType: string,
  workflowId: string,
  outcome: WorkflowOutcome,
): Work {
  if (outcome.status === 'COMPLETED') {
    return { input: { type: 'ChildWorkflowExecutionCompleted', seq, result: outcome.result } };
  }
  let cause: FailureInfo;
  switch (outcome.status) {
    case 'FAILED':
      cause = outcome.failure;
      break;
    case 'CANCELED':
      cause = { name: 'CancelledFailure', message: 'child workflow cancelled' };
      break;
    case 'TERMINATED':
      cause = { name: 'TerminatedFailure', message: outcome.reason ?? 'child workflow terminated' };
      break;
    case 'TIMED_OUT':
      cause = { name: 'TimeoutFailure', message: 'child workflow timed out', timeoutType: 'WORKFLOW_RUN' };
      break;
    default:
      cause = { name: 'Error', message: `child closed as ${outcome.status}` };
  }
  return {
    input: {
      type: 'ChildWorkflowExecutionFailed',
      seq,
      failure: {
        name: 'ChildWorkflowFailure',
        message: `child workflow ${workflowType} (${workflowId}) ${outcome.status.toLowerCase()}: ${cause.message}`,
        workflowType,
        cause,
      },
    },
  };
}

export function outcomeOfClosing(event: HistoryEvent): WorkflowOutcome {
  switch (event.type) {
    case 'WorkflowExecutionCompleted':
      return { status: 'COMPLETED', result: event.result };
    case 'WorkflowExecutionFailed':
      return { status: 'FAILED', failure: event.failure };
    case 'WorkflowExecutionCanceled':
      return { status: 'CANCELED' };
    case 'WorkflowExecutionTerminated':
      return event.reason === undefined
        ? { status: 'TERMINATED' }
        : { status: 'TERMINATED', reason: event.reason };
    case 'WorkflowExecutionTimedOut':
      return { status: 'TIMED_OUT' };
    case 'WorkflowExecutionContinuedAsNew':
      return { status: 'CONTINUED_AS_NEW', newRunId: event.newRunId };
    default:
      throw new Error(`${event.type} does not close a run`);
  }
}

function runKeyString(key: RunKey): string {
  return `${key.workflowId}\u0000${key.runId}`;
}

function validateStart(req: StartWorkflowRequest): void {
  if (typeof req.workflowType !== 'string' || req.workflowType === '') {
    throw new InvalidArgumentError('a workflow type is required');
  }
  if (typeof req.workflowId !== 'string' || req.workflowId === '') {
    throw new InvalidArgumentError('a workflow ID is required');
  }
  if (req.workflowId.length > 1000) {
    throw new InvalidArgumentError(
      `workflow ID is ${req.workflowId.length} characters long; the limit is 1000`,
    );
  }
  if (req.args !== undefined && !Array.isArray(req.args)) {
    throw new InvalidArgumentError('workflow args must be an array (one element per argument)');
  }
  if (req.runTimeoutMs !== undefined && !(req.runTimeoutMs > 0)) {
    throw new InvalidArgumentError('the run timeout must be a positive duration');
  }
}

function jsonArgs(args: unknown[], what: string): unknown[] {
  if (!Array.isArray(args)) throw new InvalidArgumentError(`${what} args must be an array`);
  try {
    return JSON.parse(JSON.stringify(args)) as unknown[];
  } catch (error) {
    throw new InvalidArgumentError(`${what} args are not JSON-serializable: ${(error as Error).message}`);
  }
}

function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

function decodePageToken(token: string): number {
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64url').toString()) as { offset: number };
    if (Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through
  }
  throw new InvalidArgumentError('nextPageToken is not one this server issued');
}
