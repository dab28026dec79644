import { InvalidArgumentError } from '../common/errors.js';

/** What a task token names: one attempt of one activity of one run. */
export interface TaskTokenFields {
  workflowId: string;
  runId: string;
  activityId: string;
  /** The activity's sequence number in the run (its key in the history). */
  seq: number;
  attempt: number;
}

/** The token bytes of an attempt: UTF-8 JSON, so a person can read what a token names. */
export function encodeTaskToken(fields: TaskTokenFields): Uint8Array {
  const { workflowId, runId, activityId, seq, attempt } = fields;
  return new TextEncoder().encode(JSON.stringify({ wf: 1, workflowId, runId, activityId, seq, attempt }));
}

/** Reads a task token given as bytes or as base64; throws InvalidArgumentError when it is not one of wf's. */
export function decodeTaskToken(token: Uint8Array | string): TaskTokenFields {
  const bytes = typeof token === 'string' ? base64Bytes(token) : token;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    value = undefined;
  }
  const v = value as Partial<TaskTokenFields> & { wf?: unknown };
  if (
    typeof v !== 'object' ||
    v === null ||
    v.wf !== 1 ||
    typeof v.workflowId !== 'string' ||
    typeof v.runId !== 'string' ||
    typeof v.activityId !== 'string' ||
    !Number.isSafeInteger(v.seq) ||
    !Number.isSafeInteger(v.attempt)
  ) {
    throw new InvalidArgumentError(
      "that is not a wf task token: pass the activity's `activityInfo().taskToken` (or its `base64TaskToken`) unchanged",
    );
  }
  return {
    workflowId: v.workflowId,
    runId: v.runId,
    activityId: v.activityId,
    seq: v.seq as number,
    attempt: v.attempt as number,
  };
}

/** Base64 of the token bytes (standard alphabet, as Temporal's `base64TaskToken`). */
export function taskTokenBase64(token: Uint8Array): string {
  return Buffer.from(token).toString('base64');
}

function base64Bytes(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text.trim())) {
    throw new InvalidArgumentError(
      "a task token in text form is base64 (the activity's `activityInfo().base64TaskToken`)",
    );
  }
  return Buffer.from(text.trim(), 'base64');
}
