import { EventEmitter } from 'node:events';
import { Context } from '../activity/context.js';
import type { Info } from '../activity/info.js';
import type { ActivityLogRecord, Logger, LogLevel } from '../activity/log.js';
import { CancelledFailure } from '../common/failures.js';

export interface MockActivityEnvironmentOptions {
  /** Also receives the activity's log lines (Temporal's Logger), their context in `meta`. */
  logger?: Logger;
}

const DEFAULT_TOKEN = new TextEncoder().encode('test');

/** The Info activities see in a MockActivityEnvironment unless the test overrides fields (Temporal's defaults). */
export const defaultActivityInfo: Info = {
  taskToken: DEFAULT_TOKEN,
  base64TaskToken: Buffer.from(DEFAULT_TOKEN).toString('base64'),
  activityId: 'test',
  activityType: 'unknown',
  attempt: 1,
  isLocal: false,
  workflowExecution: { workflowId: 'test', runId: '00000000-0000-0000-0000-000000000000' },
  workflowType: 'test',
  namespace: 'default',
  activityNamespace: 'default',
  workflowNamespace: 'default',
  taskQueue: 'test',
  inWorkflow: true,
  scheduledTimestampMs: 1,
  currentAttemptScheduledTimestampMs: 1,
  scheduleToCloseTimeoutMs: 1000,
  startToCloseTimeoutMs: 1000,
  heartbeatDetails: undefined,
  workflowId: 'test',
  runId: '00000000-0000-0000-0000-000000000000',
  idempotencyKey: 'test/00000000-0000-0000-0000-000000000000/test',
  scheduledTime: new Date(1),
};

/**
 * Runs an activity function in a test with a mocked `Context`: no engine, no workflow. Heartbeats
 * are recorded (`heartbeats`, and a `heartbeat` event), `cancel()` aborts the activity as a
 * workflow's cancellation would, log lines are kept (`logs`) and the `Info` can be overridden.
 * As in Temporal, one context serves every `run` of the environment: once cancelled, it stays so.
 * @example
 * const env = new MockActivityEnvironment({ attempt: 2 });
 * env.on('heartbeat', (progress) => { if (progress === 50) env.cancel(); });
 * await expect(env.run(processFile, 'big.csv')).rejects.toThrow(CancelledFailure);
 */
export class MockActivityEnvironment extends EventEmitter {
  /** The context `Context.current()` returns inside `run`. */
  readonly context: Context;
  /** Every heartbeat's details, in order. */
  readonly heartbeats: unknown[] = [];
  /** Every log line of the activity, with its context. */
  readonly logs: ActivityLogRecord[] = [];
  private readonly controller = new AbortController();

  constructor(info: Partial<Info> = {}, options: MockActivityEnvironmentOptions = {}) {
    super();
    const merged = withDerivedFields(info);
    this.context = new Context(merged, this.controller.signal, {
      heartbeat: (details) => {
        this.heartbeats.push(details);
        this.emit('heartbeat', details);
      },
      sleep: (ms, signal) => realSleep(ms, signal),
      log: (record) => {
        this.logs.push(record);
        options.logger?.log(record.level.toUpperCase() as LogLevel, record.message, {
          ...record.attributes,
          ...record.activity,
          sdkComponent: 'activity',
        });
      },
    });
  }

  /**
   * Cancels the activity: `cancellationSignal` aborts and `cancelled` and `sleep` reject with a
   * CancelledFailure whose message is `reason` (default `CANCELLED`, as Temporal's).
   */
  cancel(reason = 'CANCELLED'): void {
    if (!this.controller.signal.aborted) this.controller.abort(new CancelledFailure(reason));
  }

  /** Runs `fn(...args)` as the activity, with this environment's context; returns what it returns. */
  // biome-ignore lint/suspicious/noExplicitAny: any[] parameters let every activity function type match, as in Temporal
  run<P extends any[], R>(fn: (...args: P) => R | Promise<R>, ...args: P): Promise<R> {
    return this.context.run(async () => fn(...args));
  }
}

/** The defaults with the test's fields, and wf's shorthands kept in step with the fields they mirror. */
function withDerivedFields(info: Partial<Info>): Info {
  const merged = { ...defaultActivityInfo, ...info };
  const { workflowId, runId } = merged.workflowExecution;
  return {
    ...merged,
    base64TaskToken: info.base64TaskToken ?? Buffer.from(merged.taskToken).toString('base64'),
    workflowId: info.workflowId ?? workflowId,
    runId: info.runId ?? runId,
    idempotencyKey: info.idempotencyKey ?? `${workflowId}/${runId}/${merged.activityId}`,
    scheduledTime: info.scheduledTime ?? new Date(merged.scheduledTimestampMs),
  };
}

function realSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
