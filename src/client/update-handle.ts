import { InvalidArgumentError, WfError, WorkflowUpdateFailedError } from '../common/errors.js';
import type { HistoryEvent } from '../history/events.js';
import type { RunRef, WorkflowService } from '../protocol/service.js';
import { clientSpan } from './tracing.js';

/**
 * How far an update must have gone before `startUpdate` returns (Temporal's names and values).
 * wf waits for ACCEPTED (the validator passed and the update is in the history) or COMPLETED;
 * ADMITTED is refused, as Temporal's `startUpdate` does.
 */
export const WorkflowUpdateStage = {
  /** The server has the request; not offered by `startUpdate` (Temporal refuses it too). */
  ADMITTED: 'ADMITTED',
  /** The validator passed and the update was recorded as accepted. */
  ACCEPTED: 'ACCEPTED',
  /** The update handler returned or threw. */
  COMPLETED: 'COMPLETED',
  UNSPECIFIED: undefined,
} as const;
export type WorkflowUpdateStage = (typeof WorkflowUpdateStage)[keyof typeof WorkflowUpdateStage];

/** A client-side handle on one update of a workflow. */
export interface WorkflowUpdateHandle<Ret> {
  /** The update's ID: given in the options, or a random UUID. */
  readonly updateId: string;
  readonly workflowId: string;
  /** The run the update was sent to. */
  readonly workflowRunId: string | undefined;
  /**
   * Waits for the update to complete and returns its result.
   * Throws WorkflowUpdateFailedError if the handler threw (or the validator rejected it).
   */
  result(): Promise<Ret>;
}

/** Options of `handle.getUpdateHandle`. */
export interface GetWorkflowUpdateHandleOptions {
  /** The run the update was sent to. Default: the workflow's latest run. */
  workflowRunId?: string;
}

interface UpdateRequest {
  service: WorkflowService;
  ref: RunRef;
  name: string;
  args: unknown[];
  updateId: string;
}

/**
 * Sends an update and resolves once it reached `stage`. For ACCEPTED the update is sent to the run
 * current now (found with describe), and its acceptance is read from that run's history; the call
 * carrying the update stays open and settles the handle's `result()`.
 */
export async function startUpdateAtStage<Ret>(
  request: UpdateRequest,
  stage: WorkflowUpdateStage,
): Promise<WorkflowUpdateHandle<Ret>> {
  checkStage(stage);
  const { service, name, args, updateId } = request;
  const runId = request.ref.runId ?? (await service.describe(request.ref)).runId;
  const ref = { workflowId: request.ref.workflowId, runId };
  const sent = clientSpan(
    `UpdateWorkflow:${name}`,
    { 'wf.workflow.id': ref.workflowId, 'wf.run.id': runId, 'wf.update.id': updateId },
    (header) => service.update(ref, name, args, updateId, header),
  ) as Promise<Ret>;
  sent.catch(() => undefined);
  const handle: WorkflowUpdateHandle<Ret> = {
    updateId,
    workflowId: ref.workflowId,
    workflowRunId: runId,
    result: () => sent,
  };
  if (stage === WorkflowUpdateStage.COMPLETED) {
    await sent;
    return handle;
  }
  let settled = false;
  const done = sent.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    if (settled) {
      await sent; // throws the rejection or the handler's failure, as Temporal's startUpdate does for a rejection
      return handle;
    }
    const seen = findUpdate(await service.history(ref), updateId);
    if (seen?.event.type === 'WorkflowUpdateRejected') {
      await sent; // the call rejects with the validator's failure
    }
    if (seen) return handle;
    await Promise.race([done, new Promise((r) => setTimeout(r, wait))]);
  }
}

/**
 * A handle on an update sent earlier (by anyone) with this ID. `result()` waits for it to complete,
 * reading the run's history; it fails with NOT_FOUND if the run has no update of that ID.
 */
export function existingUpdateHandle<Ret>(
  service: WorkflowService,
  ref: RunRef,
  updateId: string,
): WorkflowUpdateHandle<Ret> {
  return {
    updateId,
    workflowId: ref.workflowId,
    workflowRunId: ref.runId,
    result: () => awaitRecordedOutcome<Ret>(service, ref, updateId),
  };
}

async function awaitRecordedOutcome<Ret>(
  service: WorkflowService,
  ref: RunRef,
  updateId: string,
): Promise<Ret> {
  for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
    const history = await service.history(ref);
    const seen = findUpdate(history, updateId);
    if (!seen) {
      throw new WfError(
        'NOT_FOUND',
        `workflow ${JSON.stringify(ref.workflowId)} has no update with ID ${JSON.stringify(updateId)} in ${ref.runId ? `run ${ref.runId}` : 'its latest run'}: check the ID, or pass the run it was sent to as workflowRunId`,
      );
    }
    const { event, updateName } = seen;
    if (event.type === 'WorkflowUpdateRejected') {
      throw new WorkflowUpdateFailedError(
        `update ${updateName} rejected: ${event.failure.message}`,
        event.failure,
      );
    }
    if (event.type === 'WorkflowUpdateCompleted') {
      if (event.failure) {
        throw new WorkflowUpdateFailedError(
          `update ${updateName} failed: ${event.failure.message}`,
          event.failure,
        );
      }
      return event.result as Ret;
    }
    await new Promise((r) => setTimeout(r, wait));
  }
}

type UpdateEvent = Extract<
  HistoryEvent,
  { type: 'WorkflowUpdateAccepted' | 'WorkflowUpdateRejected' | 'WorkflowUpdateCompleted' }
>;

/** The furthest event of the update in the history (completed, else rejected or accepted) and its name. */
function findUpdate(
  history: HistoryEvent[],
  updateId: string,
): { event: UpdateEvent; updateName: string } | undefined {
  let found: { event: UpdateEvent; updateName: string } | undefined;
  for (const event of history) {
    if (event.type === 'WorkflowUpdateAccepted' || event.type === 'WorkflowUpdateRejected') {
      if (event.updateId === updateId) found = { event, updateName: event.updateName };
    } else if (event.type === 'WorkflowUpdateCompleted' && event.updateId === updateId) {
      found = { event, updateName: found?.updateName ?? 'the update' };
    }
  }
  return found;
}

function checkStage(stage: unknown): void {
  if (stage === WorkflowUpdateStage.ACCEPTED || stage === WorkflowUpdateStage.COMPLETED) return;
  throw new InvalidArgumentError(
    `waitForStage ${JSON.stringify(stage)} is not supported: pass WorkflowUpdateStage.ACCEPTED (returns once the validator passed) or WorkflowUpdateStage.COMPLETED (once the handler finished)`,
  );
}
