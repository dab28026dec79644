import { UnknownWorkflowTypeError } from '../../common/errors.js';
import type { FailureInfo, NewEvent } from '../../history/events.js';
import type { RunKey, RunSummary } from '../../history/store.js';
import type { ResultRequest, RunRef, WorkflowOutcome } from '../../protocol/service.js';
import { errorToFailure } from '../../workflow/failures.js';
import type { EngineKernel } from './kernel.js';
import type { Mailbox } from './mailbox.js';
import type { Outcomes } from './outcomes.js';
import type { RunCache } from './run-cache.js';
import type { RunEntry, RunStarted } from './run-entry.js';
import type { Starts } from './start.js';
import type { Work } from './types.js';

/** What children need from the rest of the engine to reach runs by ID. */
export interface ChildPort {
  cancel(ref: RunRef, reason?: string): Promise<void>;
  terminate(ref: RunRef, reason?: string): Promise<void>;
  result(req: ResultRequest): Promise<WorkflowOutcome>;
  /** Tells a parent held by another process (shared stores); undefined when no other process can hold it. */
  deliverToParent(parent: RunKey, event: NewEvent): Promise<void> | undefined;
}

/**
 * Child workflows: starting them (once, even across restarts), telling the parent how they ended,
 * cancelling them, and the parent-close policy.
 */
export class Children {
  constructor(
    private readonly kernel: EngineKernel,
    private readonly cache: RunCache,
    private readonly mailbox: Mailbox,
    private readonly starts: Starts,
    private readonly outcomes: () => Outcomes,
    private readonly port: ChildPort,
  ) {}

  /** Starts the child `seq` recorded in the parent's history, unless it was started before. */
  async start(parent: RunEntry, seq: number): Promise<void> {
    const child = parent.executor?.children.get(seq);
    if (!child || this.kernel.stopped) return;
    const { store } = this.kernel;
    const own = (await store.listRuns({ workflowId: child.workflowId })).find((r) => r.runId === child.runId);
    if (own) {
      // Started before (a restart, a reload): if its chain has closed, the parent still needs to hear.
      if (own.status !== 'RUNNING') {
        void this.deliverOutcome(parent, seq, own).catch((error: unknown) =>
          this.kernel.logger.error(`child ${child.workflowId}: ${(error as Error).message}`),
        );
      }
      return;
    }
    const failStart = (failure: FailureInfo) =>
      this.mailbox.enqueue(parent, {
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
    const { sandbox } = this.kernel.code;
    if (!sandbox.hasWorkflow(child.workflowType)) {
      failStart(errorToFailure(new UnknownWorkflowTypeError(child.workflowType, sandbox.workflowTypes)));
      return;
    }
    const existing = await store.latestRun(child.workflowId);
    if (existing?.status === 'RUNNING') {
      failStart({
        name: 'ApplicationFailure',
        type: 'WorkflowExecutionAlreadyStarted',
        message: `workflow ${JSON.stringify(child.workflowId)} is already running`,
      });
      return;
    }
    await this.starts.serialize(child.workflowId, () =>
      this.starts.createRun(
        {
          workflowType: child.workflowType,
          workflowId: child.workflowId,
          runId: child.runId,
          args: child.args,
          firstRunId: child.runId,
          parent: { workflowId: parent.key.workflowId, runId: parent.key.runId, seq },
          ...this.kernel.tracing?.childHeader(parent.started, seq),
        },
        parent,
      ),
    );
  }

  /** A child's run closed: its parent hears (unless it continued as new: its next run will). */
  async notifyParent(started: RunStarted, outcome: WorkflowOutcome): Promise<void> {
    if (!started.parent || outcome.status === 'CONTINUED_AS_NEW') return;
    const work = childOutcomeWork(started.parent.seq, started.workflowType, started.workflowId, outcome);
    const parent = await this.cache.getRecovered(started.parent);
    if (parent && !parent.dropped) {
      if (!parent.closed) this.mailbox.enqueue(parent, work);
      return;
    }
    if (work.input) {
      await this.port.deliverToParent(started.parent, work.input)?.catch((error: unknown) => {
        this.kernel.logger.warn(`telling parent ${started.parent?.workflowId}: ${(error as Error).message}`);
      });
    }
  }

  /**
   * Asks a child to cancel: the latest run of its chain (continue-as-new keeps the first run ID), and
   * never an unrelated workflow that reuses the ID. Sent again after a restart until the child closes.
   */
  cancel(entry: RunEntry, seq: number): void {
    const child = entry.executor?.children.get(seq);
    if (!child || this.kernel.stopped) return;
    const reason = `parent ${entry.key.workflowId} cancelled it`;
    const { store } = this.kernel;
    void (async () => {
      const latest = await store.latestRun(child.workflowId);
      if (latest?.status !== 'RUNNING') return;
      const first = (await store.readHistory(latest))[0];
      if (first?.type !== 'WorkflowExecutionStarted' || first.firstRunId !== child.runId) return;
      await this.port.cancel(latest, reason);
    })().catch((error: unknown) =>
      this.kernel.logger.warn(`cancelling child ${child.workflowId}: ${(error as Error).message}`),
    );
  }

  /** The parent closed: terminate or cancel each open child (the latest run of its chain) per its policy. */
  closeAll(parent: RunEntry): void {
    for (const child of parent.executor?.children.values() ?? []) this.applyParentClosePolicy(parent, child);
  }

  applyParentClosePolicy(parent: RunEntry, child: { workflowId: string; parentClosePolicy: string }): void {
    if (child.parentClosePolicy === 'ABANDON') return;
    const reason = `parent ${parent.key.workflowId} closed`;
    const ref = { workflowId: child.workflowId };
    const action =
      child.parentClosePolicy === 'TERMINATE'
        ? this.port.terminate(ref, reason)
        : this.port.cancel(ref, reason);
    action.catch(() => undefined);
  }

  /** Re-arms a recovered parent's children: start the unstarted, re-send cancellations. */
  resume(entry: RunEntry): void {
    for (const child of entry.executor?.children.values() ?? []) {
      if (child.cancelRequested) this.cancel(entry, child.seq);
      void this.start(entry, child.seq).catch((error: unknown) =>
        this.kernel.logger.error(`child ${child.workflowId}: ${(error as Error).message}`),
      );
    }
  }

  private async deliverOutcome(parent: RunEntry, seq: number, child: RunSummary): Promise<void> {
    let outcome = await this.outcomes().outcomeOf(child, undefined);
    if (outcome.status === 'CONTINUED_AS_NEW') {
      outcome = await this.port.result({ workflowId: child.workflowId, runId: outcome.newRunId });
    }
    this.mailbox.enqueue(parent, childOutcomeWork(seq, child.workflowType, child.workflowId, outcome));
  }
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
  const cause = childFailureCause(outcome);
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

function childFailureCause(outcome: Exclude<WorkflowOutcome, { status: 'COMPLETED' }>): FailureInfo {
  switch (outcome.status) {
    case 'FAILED':
      return outcome.failure;
    case 'CANCELED':
      return { name: 'CancelledFailure', message: 'child workflow cancelled' };
    case 'TERMINATED':
      return { name: 'TerminatedFailure', message: outcome.reason ?? 'child workflow terminated' };
    case 'TIMED_OUT':
      return { name: 'TimeoutFailure', message: 'child workflow timed out', timeoutType: 'WORKFLOW_RUN' };
    case 'CONTINUED_AS_NEW':
      return { name: 'Error', message: `child closed as ${outcome.status}` };
  }
}
