import { InvalidArgumentError, WfError } from '../common/errors.js';
import { errorToFailure } from '../common/failure-convert.js';
import type { FailureInfo } from '../history/events.js';
import type { ActivityCompletionService, WorkflowService } from '../protocol/service.js';

/** A task token as the activity saw it (`activityInfo().taskToken`) or in base64 (`base64TaskToken`). */
export type TaskToken = Uint8Array | string;

/**
 * Completes, fails or heartbeats an activity that threw `CompleteAsyncError`, by its task token
 * (Temporal's `client.activity`). Each call resolves once the server has recorded it; a token whose
 * attempt no longer waits (completed, failed, timed out, cancelled) rejects with ActivityNotFoundError.
 * @example
 * await client.activity.complete(taskToken, { approved: true });
 */
export class AsyncCompletionClient {
  constructor(private readonly service: WorkflowService) {}

  /** Records the activity's result: the workflow's `await` of it resolves. */
  async complete(taskToken: TaskToken, result?: unknown): Promise<void> {
    await this.completion('complete').completeActivity({
      taskToken: tokenText(taskToken),
      ...(result === undefined ? {} : { result }),
    });
  }

  /** Records a failed attempt: retried per the activity's retry policy, else the workflow sees an ActivityFailure. */
  async fail(taskToken: TaskToken, err: unknown): Promise<void> {
    await this.completion('fail').failActivity({
      taskToken: tokenText(taskToken),
      failure: wireFailure(err),
    });
  }

  /** Keeps the activity's heartbeat timeout from firing; `details` reach a later attempt (`info.heartbeatDetails`). */
  async heartbeat(taskToken: TaskToken, details?: unknown): Promise<void> {
    await this.completion('heartbeat').heartbeatActivity({
      taskToken: tokenText(taskToken),
      ...(details === undefined ? {} : { details }),
    });
  }

  private completion(method: string): ActivityCompletionService {
    const candidate = this.service as WorkflowService & Partial<ActivityCompletionService>;
    if (typeof candidate.completeActivity !== 'function') {
      throw new WfError(
        'UNAVAILABLE',
        `this client's service cannot ${method} activities by task token: use a client of wf dev or of a TestWorkflowEnvironment`,
      );
    }
    return candidate as ActivityCompletionService;
  }
}

function tokenText(token: TaskToken): string {
  if (token instanceof Uint8Array) return Buffer.from(token).toString('base64');
  if (typeof token === 'string' && token !== '') return token;
  throw new InvalidArgumentError(
    "wf completes activities by task token only: pass the activity's `activityInfo().taskToken` (or `base64TaskToken`)",
  );
}

/** The failure as the API takes it: what retry policies and the workflow read, without the stack. */
function wireFailure(err: unknown): FailureInfo {
  const info = errorToFailure(err);
  return {
    name: info.name,
    message: info.message,
    ...(info.type === undefined ? {} : { type: info.type }),
    ...(info.nonRetryable === undefined ? {} : { nonRetryable: info.nonRetryable }),
    ...(info.details === undefined ? {} : { details: info.details }),
    ...(info.category === undefined ? {} : { category: info.category }),
  };
}
