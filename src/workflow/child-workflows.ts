import type { SignalDefinition, Workflow } from './definitions.js';
import { ParentClosePolicy } from './enums.js';
import { signalWorkflow } from './external-workflows.js';
import { CancelledFailure, ChildWorkflowFailure } from './failures.js';
import { captureStack, currentRun } from './run-state.js';
import { uuid4 } from './workflow-info.js';

export interface ChildWorkflowOptions<Args extends unknown[] = unknown[]> {
  /** Default: a new UUID. */
  workflowId?: string;
  args?: Args;
  /** What happens to the child when this workflow closes. Default TERMINATE, as in Temporal. */
  parentClosePolicy?: ParentClosePolicy;
}

/** A started child workflow. */
export interface ChildWorkflowHandle<W extends Workflow> {
  readonly workflowId: string;
  readonly firstExecutionRunId: string;
  /** The child's result; rejects with ChildWorkflowFailure if it failed, was cancelled or terminated. */
  result(): Promise<Awaited<ReturnType<W>>>;
  /** Sends the child a signal; resolves once it is recorded in the child's history. */
  signal<Args extends unknown[]>(def: SignalDefinition<Args> | string, ...args: Args): Promise<void>;
}

type WorkflowArg<W extends Workflow> = W | string;

function typeName(workflow: WorkflowArg<Workflow>): string {
  if (typeof workflow === 'string') return workflow;
  if (typeof workflow === 'function' && workflow.name) return workflow.name;
  throw new TypeError('startChild() needs a workflow function or its type name');
}

/**
 * Starts a child workflow and returns its handle once the start is recorded. If the workflow ID is
 * already in use, the handle's `result()` rejects with ChildWorkflowFailure.
 *
 * @example
 * const child = await startChild(chargeCard, { args: [order] });
 * const receipt = await child.result();
 */
export async function startChild<W extends Workflow>(
  workflow: WorkflowArg<W>,
  options: ChildWorkflowOptions<Parameters<W>> = {},
): Promise<ChildWorkflowHandle<W>> {
  const stack = captureStack();
  const run = currentRun('startChild');
  const workflowType = typeName(workflow);
  const scope = run.currentScope();
  if (scope.consideredCancelled) throw new CancelledFailure('child workflow cancelled before it started');
  const workflowId = options.workflowId ?? uuid4();
  const runId = uuid4();
  const args = (options.args ?? []) as unknown[];
  const seq = run.startChild(
    workflowType,
    workflowId,
    runId,
    args,
    parentClosePolicyOf(options.parentClosePolicy),
    stack,
  );
  const result = new Promise<Awaited<ReturnType<W>>>((resolve, reject) => {
    run.children.set(seq, {
      resolve: resolve as (v: unknown) => void,
      reject,
      workflowType,
      workflowId,
      stack,
      since: run.nextWait(),
    });
  });
  // Cancelling the scope asks the child to cancel; the result then settles with how the child ended
  // (a ChildWorkflowFailure caused by a CancelledFailure, unless the child finishes anyway).
  scope.cancelRequested.catch(() => {
    if (run.children.has(seq)) run.push({ type: 'requestCancelChild', seq, stack });
  });
  result.catch(() => undefined);
  return {
    workflowId,
    firstExecutionRunId: runId,
    result: () => result,
    signal: (def, ...signalArgs) =>
      signalWorkflow(workflowId, undefined, typeof def === 'string' ? def : def.name, signalArgs),
  };
}

const PARENT_CLOSE_POLICIES: readonly string[] = ['TERMINATE', 'ABANDON', 'REQUEST_CANCEL'];

function parentClosePolicyOf(value: unknown): 'TERMINATE' | 'ABANDON' | 'REQUEST_CANCEL' {
  if (value === undefined) return ParentClosePolicy.TERMINATE;
  if (typeof value !== 'string' || !PARENT_CLOSE_POLICIES.includes(value)) {
    throw new TypeError(
      `parentClosePolicy must be one of ${PARENT_CLOSE_POLICIES.join(', ')} (ParentClosePolicy), got ${JSON.stringify(value)}`,
    );
  }
  return value as 'TERMINATE' | 'ABANDON' | 'REQUEST_CANCEL';
}

/** Starts a child workflow and waits for its result. */
export async function executeChild<W extends Workflow>(
  workflow: WorkflowArg<W>,
  options: ChildWorkflowOptions<Parameters<W>> = {},
): Promise<Awaited<ReturnType<W>>> {
  const handle = await startChild(workflow, options);
  return handle.result();
}

export { ChildWorkflowFailure };
