import type { ScheduleDescription, ScheduleOverlapPolicy } from '../common/schedules.js';
import type { ScheduleHandle } from './schedule-client.js';
/**
 * What the CLI's client commands do, as functions over option objects: each connects to a dev
 * server, makes its calls, closes, and returns data for the command to render.
 */

import { type Duration, parseDuration } from '../common/duration.js';
import { InvalidArgumentError } from '../common/errors.js';
import { ApplicationFailure, type ApplicationFailureCategory } from '../common/failures.js';
import type {
  HistoryEvent,
  RunStatus,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
} from '../history/events.js';
import type { RunSummary } from '../history/store.js';
import type { ClusterInfo, FiredTimer, RunDescription, RunRef, TimeInfo } from '../protocol/service.js';
import type { WorkflowClient } from './client.js';
import { connect } from './connect.js';

export interface ConnectionOptions {
  /** Dev server URL; undefined means WF_ADDRESS, then the default address. */
  address?: string | undefined;
  /** The server's API token; undefined means WF_API_TOKEN. */
  apiToken?: string | undefined;
}

export interface TargetOptions extends ConnectionOptions {
  workflowId: string;
  runId?: string | undefined;
}

/** Runs `fn` with a client connected to the dev server, and closes it. */
export async function withClient<T>(
  options: ConnectionOptions,
  fn: (client: WorkflowClient) => Promise<T>,
): Promise<T> {
  const client = connect({
    ...(options.address === undefined ? {} : { address: options.address }),
    ...(options.apiToken === undefined ? {} : { apiToken: options.apiToken }),
  });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Parses each value of a repeatable JSON flag (`--input`): one workflow argument per value. */
export function parseJsonValues(flag: string, values: readonly string[] | undefined): unknown[] {
  return (values ?? []).map((text) => {
    try {
      // Plain JSON.parse: a "__proto__" key becomes an own data property (never a prototype), and the
      // value is sent and recorded exactly as written.
      return JSON.parse(text);
    } catch (err) {
      throw new InvalidArgumentError(`--${flag} is not valid JSON: ${(err as Error).message}`);
    }
  });
}

/** Accepts our names (ALLOW_DUPLICATE) and the Temporal CLI's (AllowDuplicate), in any case. */
function matchEnum<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  const norm = (s: string) => s.replace(/[^a-z]/gi, '').toLowerCase();
  const found = allowed.find((a) => norm(a) === norm(value));
  if (!found)
    throw new InvalidArgumentError(
      `--${flag} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`,
    );
  return found;
}

import { refuseCronSchedule } from '../common/request-rules.js';
import {
  WORKFLOW_ID_CONFLICT_POLICIES as CONFLICT_POLICIES,
  WORKFLOW_ID_REUSE_POLICIES as REUSE_POLICIES,
  RUN_STATUSES,
} from '../history/events.js';

export { CONFLICT_POLICIES, REUSE_POLICIES, RUN_STATUSES };

export function parseReusePolicy(value: string): WorkflowIdReusePolicy {
  return matchEnum('id-reuse-policy', value, REUSE_POLICIES);
}

export function parseConflictPolicy(value: string): WorkflowIdConflictPolicy {
  return matchEnum('id-conflict-policy', value, CONFLICT_POLICIES);
}

export function parseStatus(value: string): RunStatus | 'CORRUPT' {
  return matchEnum('status', value, RUN_STATUSES);
}

export interface StartOptions extends ConnectionOptions {
  workflowType: string;
  workflowId: string;
  /** Raw `--input` values, one JSON document per argument. */
  inputs?: readonly string[] | undefined;
  reusePolicy?: string | undefined;
  conflictPolicy?: string | undefined;
  runTimeout?: Duration | undefined;
  /** Refused (see refuseCronSchedule): given, nothing starts. */
  cronSchedule?: string | undefined;
}

function startOptionsOf(options: StartOptions) {
  refuseCronSchedule('--cron-schedule', options.cronSchedule);
  return {
    workflowId: options.workflowId,
    args: parseJsonValues('input', options.inputs),
    ...(options.reusePolicy ? { workflowIdReusePolicy: parseReusePolicy(options.reusePolicy) } : {}),
    ...(options.conflictPolicy
      ? { workflowIdConflictPolicy: parseConflictPolicy(options.conflictPolicy) }
      : {}),
    ...(options.runTimeout !== undefined
      ? { workflowRunTimeout: parseDuration(options.runTimeout, '--run-timeout') }
      : {}),
  };
}

/** Starts a workflow; returns its IDs. */
export async function startWorkflow(options: StartOptions): Promise<{ workflowId: string; runId: string }> {
  const startOptions = startOptionsOf(options);
  return withClient(options, async (client) => {
    const handle = await client.start(options.workflowType, startOptions);
    return { workflowId: handle.workflowId, runId: handle.runId! };
  });
}

/** Signals a workflow, starting it first if no run of the ID is open. */
export async function signalWithStartWorkflow(
  options: StartOptions & { signalName: string; signalInputs?: readonly string[] | undefined },
): Promise<{ workflowId: string; runId: string }> {
  const startOptions = startOptionsOf(options);
  const signalArgs = parseJsonValues('signal-input', options.signalInputs);
  return withClient(options, async (client) => {
    const handle = await client.signalWithStart(options.workflowType, {
      ...startOptions,
      signal: options.signalName,
      signalArgs,
    });
    return { workflowId: handle.workflowId, runId: handle.runId! };
  });
}

/** Starts a workflow and waits for its result (throws WorkflowFailedError if it does not complete). */
export async function executeWorkflow(
  options: StartOptions,
): Promise<{ workflowId: string; runId: string; result: unknown }> {
  const startOptions = startOptionsOf(options);
  return withClient(options, async (client) => {
    const handle = await client.start(options.workflowType, startOptions);
    const result = await handle.result();
    return { workflowId: handle.workflowId, runId: handle.runId!, result };
  });
}

function handleOf(client: WorkflowClient, target: TargetOptions) {
  return client.getHandle(target.workflowId, target.runId);
}

export async function signalWorkflow(
  options: TargetOptions & { name: string; inputs?: readonly string[] | undefined },
) {
  const args = parseJsonValues('input', options.inputs);
  await withClient(options, (client) => handleOf(client, options).signal(options.name, ...args));
}

export async function queryWorkflow(
  options: TargetOptions & { name: string; inputs?: readonly string[] | undefined },
): Promise<unknown> {
  const args = parseJsonValues('input', options.inputs);
  return withClient(options, (client) => handleOf(client, options).query(options.name, ...args));
}

export async function updateWorkflow(
  options: TargetOptions & {
    name: string;
    inputs?: readonly string[] | undefined;
    updateId?: string | undefined;
  },
): Promise<unknown> {
  const args = parseJsonValues('input', options.inputs);
  return withClient(options, (client) =>
    handleOf(client, options).executeUpdate(options.name, {
      args,
      ...(options.updateId ? { updateId: options.updateId } : {}),
    }),
  );
}

export async function cancelWorkflow(
  options: TargetOptions & { reason?: string | undefined },
): Promise<void> {
  await withClient(options, (client) => handleOf(client, options).cancel(options.reason));
}

export async function terminateWorkflow(
  options: TargetOptions & { reason?: string | undefined },
): Promise<void> {
  await withClient(options, (client) => handleOf(client, options).terminate(options.reason));
}

export async function describeWorkflow(options: TargetOptions): Promise<RunDescription> {
  return withClient(options, (client) => handleOf(client, options).describe());
}

export async function workflowHistory(options: TargetOptions): Promise<HistoryEvent[]> {
  return withClient(options, (client) => handleOf(client, options).history());
}

/** Waits for the result (following continue-as-new); throws WorkflowFailedError if the run did not complete. */
export async function workflowResult(options: TargetOptions): Promise<unknown> {
  return withClient(options, (client) => handleOf(client, options).result());
}

export interface ListOptions extends ConnectionOptions {
  status?: string | undefined;
  workflowType?: string | undefined;
  workflowId?: string | undefined;
  /** A filter in Temporal's list syntax: `CustomerId = "c-1" AND ExecutionStatus = "Running"`. */
  query?: string | undefined;
  /** At most this many runs. */
  limit: number;
}

/** Runs newest first, at most `limit`; `more` says whether some were left out. */
export async function listWorkflows(options: ListOptions): Promise<{ runs: RunSummary[]; more: boolean }> {
  const filter = {
    ...(options.status ? { status: parseStatus(options.status) } : {}),
    ...(options.workflowType ? { workflowType: options.workflowType } : {}),
    ...(options.workflowId ? { workflowId: options.workflowId } : {}),
    ...(options.query ? { query: options.query } : {}),
    pageSize: Math.min(Math.max(options.limit + 1, 1), 1000),
  };
  return withClient(options, async (client) => {
    const runs: RunSummary[] = [];
    for await (const run of client.list(filter)) {
      if (runs.length === options.limit) return { runs, more: true };
      runs.push(run);
    }
    return { runs, more: false };
  });
}

export type { RunRef };

/** The dev server's time and how far it was skipped. */
/** The servers working on the store, with their builds. */
export async function clusterInfo(options: ConnectionOptions): Promise<ClusterInfo> {
  return withClient(options, (client) => client.cluster());
}

export async function serverTime(options: ConnectionOptions): Promise<TimeInfo> {
  return withClient(options, (client) => client.currentTime());
}

/** Moves the dev server's clock forward by `duration` ('3 days', '90m', milliseconds). */
export async function skipServerTime(options: ConnectionOptions & { duration: string }): Promise<TimeInfo> {
  const ms = parseDuration(options.duration, 'the duration');
  if (ms <= 0) throw new InvalidArgumentError('skip a positive duration, e.g. `wf time skip 3d`');
  return withClient(options, (client) => client.skipTime(ms));
}

/** Fires a pending timer of a run now. */
export async function fireWorkflowTimer(
  options: TargetOptions & { seq?: number | undefined },
): Promise<FiredTimer> {
  return withClient(options, (client) => handleOf(client, options).fireTimer(options.seq));
}

/** Parses one JSON flag value (`--result`, `--details`); undefined when the flag is absent. */
function parseJsonValue(flag: string, value: string | undefined): unknown {
  return value === undefined ? undefined : parseJsonValues(flag, [value])[0];
}

export async function completeActivityByToken(
  options: ConnectionOptions & { taskToken: string; result?: string | undefined },
): Promise<void> {
  const result = parseJsonValue('result', options.result);
  await withClient(options, (client) => client.activity.complete(options.taskToken, result));
}

export async function failActivityByToken(
  options: ConnectionOptions & {
    taskToken: string;
    message: string;
    type?: string | undefined;
    nonRetryable?: boolean | undefined;
    category?: ApplicationFailureCategory | undefined;
    details?: readonly string[] | undefined;
  },
): Promise<void> {
  const failure = ApplicationFailure.create({
    message: options.message,
    type: options.type ?? 'Error',
    nonRetryable: options.nonRetryable ?? false,
    details: parseJsonValues('detail', options.details),
    ...(options.category ? { category: options.category } : {}),
  });
  await withClient(options, (client) => client.activity.fail(options.taskToken, failure));
}

export async function heartbeatActivityByToken(
  options: ConnectionOptions & { taskToken: string; details?: string | undefined },
): Promise<void> {
  const details = parseJsonValue('details', options.details);
  await withClient(options, (client) => client.activity.heartbeat(options.taskToken, details));
}

export interface ScheduleCreateOptions extends ConnectionOptions {
  scheduleId: string;
  cron?: readonly string[] | undefined;
  /** `EVERY` or `EVERY/OFFSET` durations, e.g. `1h` or `1d/2h`. */
  intervals?: readonly string[] | undefined;
  workflowType: string;
  workflowId: string;
  inputs?: readonly string[] | undefined;
  overlap?: string | undefined;
  catchupWindow?: string | undefined;
  paused?: boolean | undefined;
  note?: string | undefined;
}

const OVERLAP_POLICIES = [
  'SKIP',
  'BUFFER_ONE',
  'BUFFER_ALL',
  'CANCEL_OTHER',
  'TERMINATE_OTHER',
  'ALLOW_ALL',
] as const;

export function parseOverlapPolicy(value: string | undefined): ScheduleOverlapPolicy | undefined {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase().replace(/-/g, '_');
  if (!(OVERLAP_POLICIES as readonly string[]).includes(upper)) {
    throw new InvalidArgumentError(`--overlap-policy ${value}: use one of ${OVERLAP_POLICIES.join(', ')}`);
  }
  return upper as ScheduleOverlapPolicy;
}

/** Creates a schedule that starts a workflow at cron or interval times. */
export async function createSchedule(options: ScheduleCreateOptions): Promise<ScheduleDescription> {
  const args = parseJsonValues('input', options.inputs);
  const overlap = parseOverlapPolicy(options.overlap);
  return withClient(options, async (client) => {
    const handle = await client.schedule.create({
      scheduleId: options.scheduleId,
      spec: {
        ...(options.cron?.length ? { cronExpressions: [...options.cron] } : {}),
        ...(options.intervals?.length
          ? {
              intervals: options.intervals.map((text) => {
                const [every, offset] = text.split('/');
                return { every: every!, ...(offset ? { offset } : {}) };
              }),
            }
          : {}),
      },
      action: {
        type: 'startWorkflow',
        workflowType: options.workflowType,
        workflowId: options.workflowId,
        args,
      },
      ...(overlap || options.catchupWindow
        ? {
            policies: {
              ...(overlap ? { overlap } : {}),
              ...(options.catchupWindow ? { catchupWindow: options.catchupWindow } : {}),
            },
          }
        : {}),
      ...(options.paused || options.note
        ? {
            state: {
              ...(options.paused ? { paused: true } : {}),
              ...(options.note ? { note: options.note } : {}),
            },
          }
        : {}),
    });
    return handle.describe();
  });
}

/** Runs `fn` on a schedule's handle. */
export async function withSchedule<T>(
  options: ConnectionOptions & { scheduleId: string },
  fn: (handle: ScheduleHandle) => Promise<T>,
): Promise<T> {
  return withClient(options, (client) => fn(client.schedule.getHandle(options.scheduleId)));
}

export async function listSchedules(options: ConnectionOptions): Promise<ScheduleDescription[]> {
  return withClient(options, async (client) => {
    const all: ScheduleDescription[] = [];
    for await (const schedule of client.schedule.list()) all.push(schedule);
    return all;
  });
}
