import type { WorkflowIdConflictPolicy } from '../history/events.js';
import type { Workflow } from '../workflow/definitions.js';
import type { WorkflowHandle, WorkflowStartOptions } from './workflow-handle.js';

const settle = Symbol('settle');
const claim = Symbol('claim');

/**
 * How to start the workflow of `client.workflow.executeUpdateWithStart` / `startUpdateWithStart`:
 * the workflow and its start options, `workflowIdConflictPolicy` required (USE_EXISTING to update
 * the open run if there is one). One operation serves one call.
 * @example
 * const op = new WithStartWorkflowOperation(cartWorkflow, { workflowId: 'cart-42', workflowIdConflictPolicy: 'USE_EXISTING' });
 * const total = await client.workflow.executeUpdateWithStart(addItem, { args: [item], startWorkflowOperation: op });
 * const cart = await op.workflowHandle();
 */
export class WithStartWorkflowOperation<W extends Workflow> {
  private used = false;
  private readonly handlePromise: Promise<WorkflowHandle<W>>;
  private resolveHandle!: (handle: WorkflowHandle<W>) => void;
  private rejectHandle!: (error: unknown) => void;

  constructor(
    readonly workflowTypeOrFunc: W | string,
    readonly options: WorkflowStartOptions<W> & { workflowIdConflictPolicy: WorkflowIdConflictPolicy },
  ) {
    this.handlePromise = new Promise<WorkflowHandle<W>>((resolve, reject) => {
      this.resolveHandle = resolve;
      this.rejectHandle = reject;
    });
    this.handlePromise.catch(() => undefined);
  }

  /** The handle of the run started (or used); rejects with the start's error if it failed. */
  workflowHandle(): Promise<WorkflowHandle<W>> {
    return this.handlePromise;
  }

  /** @internal Marks the operation used; throws if it was already. */
  [claim](): void {
    if (this.used) {
      throw new Error(
        'this WithStartWorkflowOperation has already been executed: create a new one for each update-with-start call',
      );
    }
    this.used = true;
  }

  /** @internal */
  [settle](outcome: { handle: WorkflowHandle<W> } | { error: unknown }): void {
    if ('handle' in outcome) this.resolveHandle(outcome.handle);
    else this.rejectHandle(outcome.error);
  }
}

/** Settles the operation's `workflowHandle()` (for the client). */
export function settleWithStart<W extends Workflow>(
  op: WithStartWorkflowOperation<W>,
  outcome: { handle: WorkflowHandle<W> } | { error: unknown },
): void {
  op[settle](outcome);
}

/** Marks the operation used (for the client); throws if it was already. */
export function claimWithStart(op: WithStartWorkflowOperation<Workflow>): void {
  op[claim]();
}
