/**
 * Activities written as Temporal's documentation writes them, with only `@temporalio/activity`
 * changed to `wfkit/activity` (test/compat: each uses one name Temporal projects use).
 */
import { appendFile } from 'node:fs/promises';
import {
  ApplicationFailure,
  ApplicationFailureCategory,
  activityInfo,
  CancelledFailure,
  CompleteAsyncError,
  Context,
  heartbeat,
  log,
  sleep,
} from 'wfkit/activity';

/** The activity logger: each line carries the activity's context. */
export async function greet(name: string): Promise<string> {
  log.info('Greeting', { name });
  return `Hello, ${name}!`;
}

/** The fields of `activityInfo()` a Temporal activity reads. */
export async function describeSelf(): Promise<Record<string, unknown>> {
  const info = activityInfo();
  return {
    workflowExecution: info.workflowExecution,
    workflowType: info.workflowType,
    activityId: info.activityId,
    activityType: info.activityType,
    attempt: info.attempt,
    isLocal: info.isLocal,
    taskQueue: info.taskQueue,
    scheduledTimestampMs: info.scheduledTimestampMs,
    currentAttemptScheduledTimestampMs: info.currentAttemptScheduledTimestampMs,
    startToCloseTimeoutMs: info.startToCloseTimeoutMs,
    heartbeatTimeoutMs: info.heartbeatTimeoutMs,
    heartbeatDetails: info.heartbeatDetails ?? null,
    taskTokenBytes: info.taskToken.length,
    base64TaskToken: info.base64TaskToken,
  };
}

/** Temporal's "fake progress" example: resumes from its last heartbeat, honours cancellation. */
export async function fakeProgress(sleepIntervalMs = 1000, failAt = -1): Promise<number> {
  const context = Context.current();
  try {
    const startingPoint: number = activityInfo().heartbeatDetails || 1;
    context.log.info('Starting activity at progress', { startingPoint });
    for (let progress = startingPoint; progress <= 10; ++progress) {
      await sleep(sleepIntervalMs);
      heartbeat(progress);
      if (progress === failAt && activityInfo().attempt === 1) {
        throw ApplicationFailure.retryable(`failed at ${progress}`, 'Flaky');
      }
    }
    return startingPoint;
  } catch (err) {
    if (err instanceof CancelledFailure) {
      log.warn('Fake progress activity cancelled', { message: err.message });
    }
    throw err;
  }
}

/** Async completion: hands its task token to someone else and leaves the completion to them. */
export async function requestApproval(approver: string): Promise<string> {
  const { base64TaskToken } = activityInfo();
  await appendFile(
    process.env.APPROVALS_FILE ?? 'approvals.jsonl',
    `${JSON.stringify({ approver, taskToken: base64TaskToken })}\n`,
  );
  throw new CompleteAsyncError();
}

/** An expected failure: BENIGN, so it is logged at a lower level. */
export async function chargeCard(amountCents: number): Promise<string> {
  if (amountCents > 10_000) {
    throw ApplicationFailure.create({
      message: 'card declined: over the limit',
      type: 'CardDeclined',
      nonRetryable: true,
      category: ApplicationFailureCategory.BENIGN,
    });
  }
  return `charged ${amountCents}`;
}
