import { type Duration, parseDuration } from '../common/duration.js';
import { WfError } from '../common/errors.js';
import type {
  ScheduleActionResult,
  ScheduleDefinition,
  ScheduleDescription,
  ScheduleOverlapPolicy,
} from '../common/schedules.js';
import { checkSearchAttributes, type SearchAttributeValue } from '../common/search-attributes.js';
import type { ScheduleService, WorkflowService } from '../protocol/service.js';
import type { Workflow } from '../workflow/definitions.js';

export type { ScheduleActionResult, ScheduleDescription } from '../common/schedules.js';
export { ScheduleOverlapPolicy } from '../common/schedules.js';

/** What `client.schedule.create` takes (Temporal's shape, with wf's subset of specs). */
export interface ScheduleOptions {
  scheduleId: string;
  spec: {
    /** Cron expressions, evaluated in UTC, e.g. `'0 9 * * MON-FRI'`. */
    cronExpressions?: string[];
    /** Fixed intervals from the epoch: `{ every: '1 hour', offset: '15 minutes' }`. */
    intervals?: { every: Duration; offset?: Duration }[];
  };
  action: {
    type: 'startWorkflow';
    workflowType: Workflow | string;
    /** The started run's ID is this with the fire time appended. */
    workflowId: string;
    args?: unknown[];
    /** Accepted and ignored: wf has no task queues. */
    taskQueue?: string;
    memo?: Record<string, unknown>;
    searchAttributes?: Record<string, SearchAttributeValue | SearchAttributeValue[]>;
    workflowRunTimeout?: Duration;
  };
  policies?: { overlap?: ScheduleOverlapPolicy; catchupWindow?: Duration };
  state?: { paused?: boolean; note?: string };
}

/** One schedule. */
export class ScheduleHandle {
  constructor(
    private readonly service: ScheduleService,
    readonly scheduleId: string,
  ) {}

  describe(): Promise<ScheduleDescription> {
    return this.service.describeSchedule(this.scheduleId);
  }

  async pause(note?: string): Promise<void> {
    await this.service.pauseSchedule(this.scheduleId, note);
  }

  async unpause(note?: string): Promise<void> {
    await this.service.unpauseSchedule(this.scheduleId, note);
  }

  /** Takes the schedule's action now. */
  trigger(overlap?: ScheduleOverlapPolicy): Promise<ScheduleActionResult> {
    return this.service.triggerSchedule(this.scheduleId, overlap);
  }

  /** Takes the action for every fire time in each range, as if the schedule had run then. */
  async backfill(
    ranges: { start: Date | string; end: Date | string; overlap?: ScheduleOverlapPolicy }[],
  ): Promise<ScheduleActionResult[]> {
    const results: ScheduleActionResult[] = [];
    for (const { start, end, overlap } of ranges) {
      results.push(
        ...(await this.service.backfillSchedule(this.scheduleId, {
          startAt: new Date(start).toISOString(),
          endAt: new Date(end).toISOString(),
          ...(overlap ? { overlap } : {}),
        })),
      );
    }
    return results;
  }

  async delete(): Promise<void> {
    await this.service.deleteSchedule(this.scheduleId);
  }
}

/**
 * Temporal's `client.schedule`: schedules that start a workflow at cron or interval times, kept by the
 * server's store and fired by the server (once per fire time, across restarts and servers).
 *
 * @example
 * await client.schedule.create({
 *   scheduleId: 'nightly-report',
 *   spec: { cronExpressions: ['0 2 * * *'] },
 *   action: { type: 'startWorkflow', workflowType: report, workflowId: 'report', args: [] },
 *   policies: { overlap: ScheduleOverlapPolicy.SKIP },
 * });
 */
export class ScheduleClient {
  constructor(private readonly service: WorkflowService) {}

  async create(options: ScheduleOptions): Promise<ScheduleHandle> {
    const service = this.schedules();
    await service.createSchedule(toDefinition(options));
    return new ScheduleHandle(service, options.scheduleId);
  }

  getHandle(scheduleId: string): ScheduleHandle {
    return new ScheduleHandle(this.schedules(), scheduleId);
  }

  async *list(): AsyncIterable<ScheduleDescription> {
    yield* await this.schedules().listSchedules();
  }

  private schedules(): ScheduleService {
    const candidate = this.service as WorkflowService & Partial<ScheduleService>;
    if (typeof candidate.createSchedule !== 'function') {
      throw new WfError('UNAVAILABLE', 'this connection cannot manage schedules');
    }
    return candidate as ScheduleService;
  }
}

function toDefinition(options: ScheduleOptions): ScheduleDefinition {
  const { action } = options;
  return {
    scheduleId: options.scheduleId,
    spec: {
      ...(options.spec.cronExpressions ? { cronExpressions: options.spec.cronExpressions } : {}),
      ...(options.spec.intervals
        ? {
            intervals: options.spec.intervals.map((i) => ({
              everyMs: parseDuration(i.every, 'spec.intervals.every'),
              ...(i.offset === undefined
                ? {}
                : { offsetMs: parseDuration(i.offset, 'spec.intervals.offset') }),
            })),
          }
        : {}),
    },
    action: {
      workflowType: typeof action.workflowType === 'string' ? action.workflowType : action.workflowType.name,
      workflowId: action.workflowId,
      args: action.args ?? [],
      ...(action.memo ? { memo: action.memo } : {}),
      ...(action.searchAttributes
        ? { searchAttributes: checkSearchAttributes('action.searchAttributes', action.searchAttributes) }
        : {}),
      ...(action.workflowRunTimeout === undefined
        ? {}
        : { runTimeoutMs: parseDuration(action.workflowRunTimeout, 'action.workflowRunTimeout') }),
    },
    ...(options.policies
      ? {
          policies: {
            ...(options.policies.overlap ? { overlap: options.policies.overlap } : {}),
            ...(options.policies.catchupWindow === undefined
              ? {}
              : { catchupWindowMs: parseDuration(options.policies.catchupWindow, 'policies.catchupWindow') }),
          },
        }
      : {}),
    ...(options.state ? { state: options.state } : {}),
  };
}
