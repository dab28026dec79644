/**
 * A small in-memory WorkflowService for testing the layers above the engine (client, HTTP server,
 * transport). It runs no workflow code: tests close runs by hand with `complete`, `fail`...
 */

import {
  InvalidArgumentError,
  QueryFailedError,
  UnknownWorkflowTypeError,
  WfError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowNotRunningError,
} from '../../src/common/errors.js';
import type { FailureInfo, HistoryEvent, NewEvent, RunStatus } from '../../src/history/events.js';
import type { RunSummary } from '../../src/history/store.js';
import type {
  ClusterInfo,
  EventNotice,
  ListRequest,
  ListResponse,
  ResultRequest,
  RunDescription,
  RunRef,
  StartWorkflowRequest,
  StartWorkflowResponse,
  WorkflowOutcome,
  WorkflowService,
} from '../../src/protocol/service.js';

interface FakeRun {
  workflowId: string;
  runId: string;
  workflowType: string;
  status: RunStatus;
  events: HistoryEvent[];
  outcome?: WorkflowOutcome;
  waiters: ((o: WorkflowOutcome) => void)[];
  state: Record<string, unknown>;
}

export const KNOWN_TYPES = ['orderWorkflow', 'greet'];

export class FakeWorkflowService implements WorkflowService {
  readonly runs: FakeRun[] = [];
  readonly calls: { method: string; args: unknown[] }[] = [];
  private readonly listeners = new Set<(n: EventNotice) => void>();
  private nextRun = 1;
  /** Makes the next call throw this (a plain Error to test 500s). */
  failNext: unknown;

  private enter(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
    if (this.failNext !== undefined) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
  }

  private find(ref: RunRef): FakeRun {
    const candidates = this.runs.filter((r) => r.workflowId === ref.workflowId);
    const run = ref.runId ? candidates.find((r) => r.runId === ref.runId) : candidates.at(-1);
    if (!run) throw new WorkflowNotFoundError(ref.workflowId, ref.runId);
    return run;
  }

  private openRun(ref: RunRef): FakeRun {
    const run = this.find(ref);
    if (run.status !== 'RUNNING') throw new WorkflowNotRunningError(run.workflowId, run.runId, run.status);
    return run;
  }

  private append(run: FakeRun, event: NewEvent): void {
    const full = {
      ...event,
      eventId: run.events.length + 1,
      eventTime: new Date().toISOString(),
    } as HistoryEvent;
    run.events.push(full);
    for (const l of this.listeners) l({ workflowId: run.workflowId, runId: run.runId, event: full });
  }

  /** Closes a run with an outcome, appending the matching closing event. */
  closeRun(ref: RunRef, outcome: WorkflowOutcome): void {
    const run = this.openRun(ref);
    switch (outcome.status) {
      case 'COMPLETED':
        this.append(run, { type: 'WorkflowExecutionCompleted', result: outcome.result });
        break;
      case 'FAILED':
        this.append(run, { type: 'WorkflowExecutionFailed', failure: outcome.failure });
        break;
      case 'CANCELED':
        this.append(run, { type: 'WorkflowExecutionCanceled' });
        break;
      case 'TERMINATED':
        this.append(
          run,
          outcome.reason
            ? { type: 'WorkflowExecutionTerminated', reason: outcome.reason }
            : { type: 'WorkflowExecutionTerminated' },
        );
        break;
      case 'TIMED_OUT':
        this.append(run, { type: 'WorkflowExecutionTimedOut' });
        break;
      case 'CONTINUED_AS_NEW':
        this.append(run, {
          type: 'WorkflowExecutionContinuedAsNew',
          newRunId: outcome.newRunId,
          workflowType: run.workflowType,
          args: [],
        });
        break;
    }
    run.status = outcome.status;
    run.outcome = outcome;
    for (const w of run.waiters.splice(0)) w(outcome);
  }

  complete(workflowId: string, result: unknown): void {
    this.closeRun({ workflowId }, { status: 'COMPLETED', result });
  }

  fail(workflowId: string, failure: FailureInfo): void {
    this.closeRun({ workflowId }, { status: 'FAILED', failure });
  }

  /** Continues the latest run as a new run and returns the new run's ID. */
  continueAsNew(workflowId: string): string {
    const old = this.find({ workflowId });
    const newRunId = `run-${this.nextRun++}`;
    this.closeRun({ workflowId }, { status: 'CONTINUED_AS_NEW', newRunId });
    this.addRun(old.workflowType, workflowId, newRunId, []);
    return newRunId;
  }

  private addRun(workflowType: string, workflowId: string, runId: string, args: unknown[]): FakeRun {
    const run: FakeRun = {
      workflowId,
      runId,
      workflowType,
      status: 'RUNNING',
      events: [],
      waiters: [],
      state: {},
    };
    this.runs.push(run);
    this.append(run, {
      type: 'WorkflowExecutionStarted',
      formatVersion: 1,
      workflowType,
      workflowId,
      runId,
      args,
      randomnessSeed: 'seed',
      attempt: 1,
      firstRunId: runId,
    });
    return run;
  }

  async startWorkflow(req: StartWorkflowRequest): Promise<StartWorkflowResponse> {
    this.enter('startWorkflow', req);
    if (!KNOWN_TYPES.includes(req.workflowType))
      throw new UnknownWorkflowTypeError(req.workflowType, KNOWN_TYPES);
    const existing = this.runs.filter((r) => r.workflowId === req.workflowId).at(-1);
    if (existing?.status === 'RUNNING') {
      if (req.workflowIdConflictPolicy === 'USE_EXISTING') {
        return { workflowId: existing.workflowId, runId: existing.runId, started: false };
      }
      throw new WorkflowExecutionAlreadyStartedError(
        req.workflowId,
        req.workflowType,
        existing.runId,
        'is already running',
      );
    }
    const run = this.addRun(req.workflowType, req.workflowId, `run-${this.nextRun++}`, req.args ?? []);
    return { workflowId: run.workflowId, runId: run.runId, started: true };
  }

  private summary(run: FakeRun): RunSummary {
    return {
      workflowId: run.workflowId,
      runId: run.runId,
      workflowType: run.workflowType,
      status: run.status,
      startTime: run.events[0]!.eventTime,
      historyLength: run.events.length,
    };
  }

  async describe(ref: RunRef): Promise<RunDescription> {
    this.enter('describe', ref);
    return { ...this.summary(this.find(ref)), pendingActivities: [], pendingTimers: [] };
  }

  async list(req: ListRequest = {}): Promise<ListResponse> {
    this.enter('list', req);
    const all = this.runs
      .filter(
        (r) =>
          (!req.status || r.status === req.status) &&
          (!req.workflowType || r.workflowType === req.workflowType) &&
          (!req.workflowId || r.workflowId === req.workflowId),
      )
      .reverse();
    const start = req.nextPageToken ? Number(req.nextPageToken) : 0;
    const size = req.pageSize ?? 100;
    const page = all.slice(start, start + size);
    const res: ListResponse = { runs: page.map((r) => this.summary(r)) };
    if (start + size < all.length) res.nextPageToken = String(start + size);
    return res;
  }

  async history(ref: RunRef): Promise<HistoryEvent[]> {
    this.enter('history', ref);
    return this.find(ref).events.slice();
  }

  async signal(ref: RunRef, signalName: string, args: unknown[]): Promise<void> {
    this.enter('signal', ref, signalName, args);
    const run = this.openRun(ref);
    run.state[signalName] = args;
    this.append(run, { type: 'WorkflowSignaled', signalName, args });
  }

  async query(ref: RunRef, queryName: string, args: unknown[]): Promise<unknown> {
    this.enter('query', ref, queryName, args);
    const run = this.find(ref);
    if (queryName === 'state') return run.state;
    if (queryName === 'echo') return args;
    if (queryName === 'nothing') return undefined;
    throw new QueryFailedError(
      `workflow ${run.workflowType} has no query handler ${JSON.stringify(queryName)}`,
    );
  }

  async update(ref: RunRef, updateName: string, args: unknown[], updateId?: string): Promise<unknown> {
    this.enter('update', ref, updateName, args, updateId);
    const run = this.openRun(ref);
    if (updateName === 'reject')
      throw new WfError('UPDATE_REJECTED', 'update rejected by validator: amount must be positive');
    if (updateName === 'bad') throw new InvalidArgumentError('bad update');
    const id = updateId ?? 'generated';
    this.append(run, { type: 'WorkflowUpdateAccepted', updateId: id, updateName, args });
    this.append(run, {
      type: 'WorkflowUpdateCompleted',
      updateId: id,
      result: { updateName, args, updateId: id },
    });
    return { updateName, args, updateId: id };
  }

  async cancel(ref: RunRef, reason?: string): Promise<void> {
    this.enter('cancel', ref, reason);
    const run = this.openRun(ref);
    this.append(
      run,
      reason
        ? { type: 'WorkflowExecutionCancelRequested', reason }
        : { type: 'WorkflowExecutionCancelRequested' },
    );
    this.closeRun({ workflowId: run.workflowId, runId: run.runId }, { status: 'CANCELED' });
  }

  async terminate(ref: RunRef, reason?: string): Promise<void> {
    this.enter('terminate', ref, reason);
    const run = this.openRun(ref);
    this.closeRun(
      { workflowId: run.workflowId, runId: run.runId },
      reason ? { status: 'TERMINATED', reason } : { status: 'TERMINATED' },
    );
  }

  async result(req: ResultRequest): Promise<WorkflowOutcome> {
    this.enter('result', req);
    let run = this.find(req);
    for (;;) {
      const outcome =
        run.outcome ?? (await new Promise<WorkflowOutcome>((resolve) => run.waiters.push(resolve)));
      if (outcome.status === 'CONTINUED_AS_NEW' && req.followRuns !== false) {
        run = this.find({ workflowId: run.workflowId, runId: outcome.newRunId });
        continue;
      }
      return outcome;
    }
  }

  async cluster(): Promise<ClusterInfo> {
    return { store: 'single', servers: [] };
  }

  subscribe(listener: (notice: EventNotice) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }
}
