import type { SignalDefinition } from './definitions.js';
import { CancelledFailure } from './failures.js';
import { captureStack, currentRun } from './run-state.js';

/** Another workflow, addressed by ID, that this workflow can signal. */
export interface ExternalWorkflowHandle {
  readonly workflowId: string;
  readonly runId?: string;
  /** Sends a signal; resolves once it is recorded in the other workflow's history. */
  signal<Args extends unknown[]>(def: SignalDefinition<Args> | string, ...args: Args): Promise<void>;
  /** Asks the workflow to cancel; resolves once the request is recorded in its history. */
  cancel(): Promise<void>;
}

/**
 * A handle to signal another workflow (its latest run, or `runId`). The send is recorded, so it
 * happens once per run of this workflow, replay or not.
 *
 * @example
 * await getExternalWorkflowHandle('inventory-sku-1').signal(reserve, order.orderId);
 */
export function getExternalWorkflowHandle(workflowId: string, runId?: string): ExternalWorkflowHandle {
  currentRun('getExternalWorkflowHandle');
  return {
    workflowId,
    ...(runId === undefined ? {} : { runId }),
    signal: (def, ...args) =>
      signalWorkflow(workflowId, runId, typeof def === 'string' ? def : def.name, args),
    cancel: () => requestCancel(workflowId, runId),
  };
}

function requestCancel(workflowId: string, runId: string | undefined): Promise<void> {
  const stack = captureStack();
  const run = currentRun('cancel');
  const seq = run.nextSeq('signal');
  return new Promise<void>((resolve, reject) => {
    run.externalSignals.set(seq, {
      resolve: () => resolve(),
      reject,
      stack,
      since: run.nextWait(),
      description: `cancel request to ${JSON.stringify(workflowId)} (seq ${seq})`,
    });
    run.push({ type: 'cancelExternal', seq, workflowId, ...(runId === undefined ? {} : { runId }), stack });
  });
}

/** Records a signal to another workflow and waits for it to be delivered. */
export function signalWorkflow(
  workflowId: string,
  runId: string | undefined,
  signalName: string,
  args: unknown[],
): Promise<void> {
  const stack = captureStack();
  const run = currentRun('signal');
  const scope = run.currentScope();
  if (scope.consideredCancelled)
    return Promise.reject(new CancelledFailure('signal cancelled before it was sent'));
  const seq = run.nextSeq('signal');
  return new Promise<void>((resolve, reject) => {
    run.externalSignals.set(seq, {
      resolve: () => resolve(),
      reject,
      stack,
      since: run.nextWait(),
      description: `signal ${signalName} to ${JSON.stringify(workflowId)} (seq ${seq})`,
    });
    run.push({
      type: 'signalExternal',
      seq,
      workflowId,
      ...(runId === undefined ? {} : { runId }),
      signalName,
      args,
      stack,
    });
  });
}
