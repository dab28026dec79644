import { payloadJson } from '../common/json-payload.js';
import type {
  ActivityOptionsRecord,
  FailureInfo,
  RetryPolicyRecord,
  TimeoutType,
} from '../history/events.js';

/** The delay before the next attempt, or undefined when the failure is final. */
export function retryDelay(input: {
  policy: RetryPolicyRecord;
  attempt: number;
  failure?: FailureInfo;
  timeoutType?: TimeoutType;
  now: number;
  scheduleToCloseDeadline?: number;
}): number | undefined {
  const { policy, attempt, failure, timeoutType, now, scheduleToCloseDeadline } = input;
  if (timeoutType === 'SCHEDULE_TO_CLOSE') return undefined;
  if (failure?.nonRetryable) return undefined;
  const type = failure?.type ?? failure?.name;
  if (type && policy.nonRetryableErrorTypes.includes(type)) return undefined;
  if (policy.maximumAttempts > 0 && attempt >= policy.maximumAttempts) return undefined;
  const delay = Math.min(
    policy.initialIntervalMs * policy.backoffCoefficient ** (attempt - 1),
    policy.maximumIntervalMs,
  );
  if (scheduleToCloseDeadline !== undefined && now + delay >= scheduleToCloseDeadline) return undefined;
  return Math.round(delay);
}

/** Which timeout ends an attempt first, and when. */
export function attemptDeadline(
  options: ActivityOptionsRecord,
  startedAt: number,
  scheduledAt: number,
): { at: number; type: TimeoutType } | undefined {
  const candidates: { at: number; type: TimeoutType }[] = [];
  if (options.startToCloseTimeoutMs !== undefined) {
    candidates.push({ at: startedAt + options.startToCloseTimeoutMs, type: 'START_TO_CLOSE' });
  }
  if (options.scheduleToCloseTimeoutMs !== undefined) {
    candidates.push({ at: scheduledAt + options.scheduleToCloseTimeoutMs, type: 'SCHEDULE_TO_CLOSE' });
  }
  candidates.sort((a, b) => a.at - b.at);
  return candidates[0];
}

/** An activity's result as it will be recorded: JSON; undefined stays undefined (the field is left out). */
export function toRecordable(
  value: unknown,
): { ok: true; value: unknown } | { ok: false; failure: FailureInfo } {
  if (value === undefined) return { ok: true, value: undefined };
  const payload = payloadJson(value);
  if ('json' in payload) return { ok: true, value: JSON.parse(payload.json) };
  return {
    ok: false,
    failure: {
      name: 'ApplicationFailure',
      type: 'NonSerializableResult',
      nonRetryable: true,
      message: `the activity's result ${payload.problem}. Return plain data (objects, arrays, strings, numbers).`,
    },
  };
}
