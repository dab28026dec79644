import { randomUUID } from 'node:crypto';
import {
  UnknownWorkflowTypeError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotRunningError,
} from '../../common/errors.js';
import type { SearchAttributes } from '../../common/search-attributes.js';
import { checkTraceHeader, type TraceHeader } from '../../common/trace-header.js';
import type { HistoryEvent, WorkflowExecutionStarted } from '../../history/events.js';
import type { RunSummary } from '../../history/store.js';
import type { RunRef, StartWorkflowRequest, StartWorkflowResponse } from '../../protocol/service.js';
import { RunExecutor } from '../executor.js';
import type { EngineKernel } from './kernel.js';
import type { Mailbox } from './mailbox.js';
import { jsonArgs, jsonMemo, validateStart } from './requests.js';
import type { RunCache } from './run-cache.js';
import { newRunEntry, type RunEntry, type RunStarted } from './run-entry.js';
import type { DurableTimers } from './timers.js';

/** Everything a new run's first history holds. */
export interface NewRun {
  workflowType: string;
  workflowId: string;
  runId: string;
  args: unknown[];
  firstRunId: string;
  runTimeoutMs?: number;
  memo?: Record<string, unknown>;
  searchAttributes?: SearchAttributes;
  continuedFromRunId?: string;
  parent?: WorkflowExecutionStarted['parent'];
  header?: WorkflowExecutionStarted['header'];
  signal?: { name: string; args: unknown[] };
}

export interface StartHooks {
  afterAppend(entry: RunEntry, events: HistoryEvent[]): Promise<void>;
  signal(ref: RunRef, signalName: string, args: unknown[], header?: TraceHeader): Promise<void>;
}

/**
 * Starting runs: one start at a time per workflow ID, the ID reuse and conflict policies,
 * signal-with-start, and the next run of a chain that continued as new.
 */
export class Starts {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly kernel: EngineKernel,
    private readonly cache: RunCache,
    private readonly mailbox: Mailbox,
    private readonly timers: DurableTimers,
    private readonly hooks: StartHooks,
  ) {}

  async startWorkflow(req: StartWorkflowRequest): Promise<StartWorkflowResponse> {
    validateStart(req);
    const { sandbox } = this.kernel.code;
    if (!sandbox.hasWorkflow(req.workflowType)) {
      throw new UnknownWorkflowTypeError(req.workflowType, sandbox.workflowTypes);
    }
    if (!req.signal) return this.serialize(req.workflowId, () => this.startLocked(req));
    const signal = { name: req.signal.name, args: jsonArgs(req.signal.args ?? [], 'signal') };
    for (;;) {
      try {
        return await this.serialize(req.workflowId, async () => {
          const open = await this.kernel.store.latestRun(req.workflowId);
          if (open?.status !== 'RUNNING') return this.startLocked(req, signal);
          await this.hooks.signal(open, signal.name, signal.args, checkTraceHeader(req.header));
          return { workflowId: open.workflowId, runId: open.runId, started: false };
        });
      } catch (error) {
        // The open run closed between the look-up and the signal: start a new one with it. Or
        // another server sharing the store started one meanwhile: signal that one.
        if (
          !(error instanceof WorkflowNotRunningError) &&
          !(error instanceof WorkflowExecutionAlreadyStartedError)
        ) {
          throw error;
        }
      }
    }
  }

  /** Runs `fn` after every start of the same workflow ID queued before it. */
  async serialize<T>(workflowId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(workflowId) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(workflowId, settled);
    try {
      return await next;
    } finally {
      if (this.locks.get(workflowId) === settled) this.locks.delete(workflowId);
    }
  }

  /**
   * Records a new run's first events and carries out its first commands. `from`: the run whose
   * activation starts this one (a parent's child, a run that continued as new), if any.
   */
  async createRun(start: NewRun, from?: RunEntry): Promise<RunEntry> {
    return this.kernel.track(async () => {
      const { signal, ...started } = start;
      this.kernel.tracing?.knowRun(started);
      const options = this.kernel.executorOptions();
      const first = { ...started, randomnessSeed: randomUUID(), attempt: 1 };
      const now = this.kernel.clock.now();
      // With other runs at work, the host serves them while the workflow thread starts this one
      // (and a blocking call would wait behind their calls already in the thread); alone, it waits.
      const { executor, events } =
        options.sandbox.busy || this.mailbox.othersAtWork(from)
          ? await RunExecutor.startAsync(first, now, options, signal)
          : RunExecutor.start(first, now, options, signal);
      const entry = newRunEntry(executor.started);
      entry.executor = executor;
      entry.processing = true;
      this.cache.add(entry);
      try {
        await this.kernel.ownership.create(entry, events);
      } catch (error) {
        this.cache.remove(entry);
        this.kernel.tracing?.forgetRun(entry.key.runId);
        throw error;
      }
      this.timers.armRunTimeout(entry);
      await this.hooks.afterAppend(entry, events);
      this.mailbox.releaseSlot(entry);
      return entry;
    });
  }

  /** Starts the run a closed run continued as (`from`: that run, when its activation closed it here). */
  async continueChain(
    previous: RunStarted,
    next: { newRunId: string; workflowType: string; args: unknown[]; searchAttributes?: SearchAttributes },
    from?: RunEntry,
  ): Promise<void> {
    await this.createRun(
      {
        workflowType: next.workflowType,
        workflowId: previous.workflowId,
        runId: next.newRunId,
        args: next.args,
        firstRunId: previous.firstRunId,
        continuedFromRunId: previous.runId,
        ...(previous.runTimeoutMs === undefined ? {} : { runTimeoutMs: previous.runTimeoutMs }),
        ...(previous.memo === undefined ? {} : { memo: previous.memo }),
        // Search attributes carry over to the next run of the chain, as in Temporal.
        ...(next.searchAttributes && Object.keys(next.searchAttributes).length
          ? { searchAttributes: next.searchAttributes }
          : {}),
        ...(previous.parent === undefined ? {} : { parent: previous.parent }),
        ...this.kernel.tracing?.continuedHeader(previous),
      },
      from,
    );
  }

  private async startLocked(
    req: StartWorkflowRequest,
    signal?: { name: string; args: unknown[] },
  ): Promise<StartWorkflowResponse> {
    const existing = await this.kernel.store.latestRun(req.workflowId);
    if (existing) {
      const reused = checkIdPolicies(req, existing);
      if (reused) return reused;
    }
    const runId = randomUUID();
    const header = checkTraceHeader(req.header);
    try {
      await this.createRun({
        workflowType: req.workflowType,
        workflowId: req.workflowId,
        runId,
        args: jsonArgs(req.args ?? [], 'workflow'),
        firstRunId: runId,
        ...(req.runTimeoutMs === undefined ? {} : { runTimeoutMs: req.runTimeoutMs }),
        ...(req.memo === undefined ? {} : { memo: jsonMemo(req.memo) }),
        ...(req.searchAttributes === undefined ? {} : { searchAttributes: req.searchAttributes }),
        ...(signal ? { signal } : {}),
        ...(header ? { header } : {}),
      });
    } catch (error) {
      // Another server sharing the store started this workflow ID between our look and our start.
      if (
        error instanceof WorkflowExecutionAlreadyStartedError &&
        req.workflowIdConflictPolicy === 'USE_EXISTING' &&
        !signal
      ) {
        return { workflowId: req.workflowId, runId: error.runId, started: false };
      }
      throw error;
    }
    return { workflowId: req.workflowId, runId, started: true };
  }
}

/** Temporal's ID conflict and reuse policies: the open run to use, nothing (start), or an error. */
function checkIdPolicies(req: StartWorkflowRequest, existing: RunSummary): StartWorkflowResponse | undefined {
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
  return undefined;
}
