import { Cron } from 'croner';
import { InvalidArgumentError, WfError, WorkflowExecutionAlreadyStartedError } from '../../common/errors.js';
import {
  ScheduleOverlapPolicy as OverlapPolicies,
  type ScheduleActionResult,
  type ScheduleDefinition,
  type ScheduleDescription,
  type ScheduleOverlapPolicy,
  type ScheduleStore,
  type StoredSchedule,
} from '../../common/schedules.js';
import { checkSearchAttributes } from '../../common/search-attributes.js';
import { CLOSING_EVENT_TYPES } from '../../history/events.js';
import type { RunRef, StartWorkflowRequest, StartWorkflowResponse } from '../../protocol/service.js';
import type { TimerHandle } from '../clock.js';
import type { EngineKernel } from './kernel.js';

/** What schedules need from the engine. */
export interface SchedulePort {
  start(req: StartWorkflowRequest): Promise<StartWorkflowResponse>;
  cancel(ref: RunRef, reason?: string): Promise<void>;
  terminate(ref: RunRef, reason?: string): Promise<void>;
  /** The status of the latest run of a workflow ID, if any. */
  status(workflowId: string): Promise<string | undefined>;
}

const DEFAULT_CATCHUP_WINDOW_MS = 365 * 24 * 3600_000;
const RECENT_ACTIONS = 10;

/**
 * Temporal's Schedules on wf's engine: each schedule fires at the times its spec gives (cron
 * expressions and intervals, UTC), on the engine's Clock (so `wf time skip` fires them), and starts
 * its workflow as `<workflowId>-<fire time>`. That ID makes a fire happen once, across restarts and
 * across servers sharing a store. Overlap policies decide what happens when the previous run is
 * still open; fire times missed while no server ran are made up within the catch-up window.
 */
export class Schedules {
  private readonly schedules = new Map<string, StoredSchedule>();
  private readonly timers = new Map<string, TimerHandle>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly kernel: EngineKernel,
    private readonly store: ScheduleStore,
    private readonly port: SchedulePort,
  ) {}

  async load(): Promise<void> {
    for (const schedule of await this.store.listSchedules()) {
      this.schedules.set(schedule.scheduleId, schedule);
      this.arm(schedule);
    }
    // A buffered fire waits for the previous run to close.
    this.unsubscribe = this.kernel.subscribe((notice) => {
      if (!CLOSING_EVENT_TYPES.has(notice.event.type)) return;
      for (const schedule of this.schedules.values()) {
        if (schedule.lastWorkflowId === notice.workflowId && schedule.buffered.length > 0) {
          void this.serialize(schedule.scheduleId, () => this.drainBuffer(schedule.scheduleId));
        }
      }
    });
  }

  stop(): void {
    this.unsubscribe?.();
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }

  async create(definition: ScheduleDefinition): Promise<ScheduleDescription> {
    const schedule = this.normalize(definition);
    return this.serialize(schedule.scheduleId, async () => {
      if (this.schedules.has(schedule.scheduleId)) {
        throw new WfError(
          'ALREADY_STARTED',
          `schedule ${JSON.stringify(schedule.scheduleId)} exists already: delete it first, or pick another ID`,
        );
      }
      await this.store.saveSchedule(schedule);
      this.schedules.set(schedule.scheduleId, schedule);
      this.arm(schedule);
      return this.describeNow(schedule);
    });
  }

  async describe(scheduleId: string): Promise<ScheduleDescription> {
    return this.describeNow(this.get(scheduleId));
  }

  async list(): Promise<ScheduleDescription[]> {
    return [...this.schedules.values()]
      .sort((a, b) => a.scheduleId.localeCompare(b.scheduleId))
      .map((s) => this.describeNow(s));
  }

  async pause(scheduleId: string, paused: boolean, note?: string): Promise<ScheduleDescription> {
    return this.serialize(scheduleId, async () => {
      const schedule = this.get(scheduleId);
      schedule.state = { paused, ...(note === undefined ? {} : { note }) };
      // Unpausing does not make up the fires missed while paused.
      if (!paused) schedule.lastFireAt = Math.max(schedule.lastFireAt ?? 0, this.kernel.clock.now());
      await this.store.saveSchedule(schedule);
      this.arm(schedule);
      return this.describeNow(schedule);
    });
  }

  async trigger(scheduleId: string, overlap?: ScheduleOverlapPolicy): Promise<ScheduleActionResult> {
    return this.serialize(scheduleId, async () => {
      const schedule = this.get(scheduleId);
      const result = await this.act(schedule, this.kernel.clock.now(), overlap ?? schedule.policies.overlap);
      await this.store.saveSchedule(schedule);
      return result;
    });
  }

  async backfill(
    scheduleId: string,
    range: { startAt: number; endAt: number; overlap?: ScheduleOverlapPolicy },
  ): Promise<ScheduleActionResult[]> {
    if (!(range.endAt >= range.startAt))
      throw new InvalidArgumentError('a backfill needs a start time before its end time');
    return this.serialize(scheduleId, async () => {
      const schedule = this.get(scheduleId);
      const results: ScheduleActionResult[] = [];
      for (
        let t = this.nextFire(schedule, range.startAt - 1);
        t !== undefined && t <= range.endAt;
        t = this.nextFire(schedule, t)
      ) {
        results.push(await this.act(schedule, t, range.overlap ?? schedule.policies.overlap));
        if (results.length >= 1000) break;
      }
      await this.store.saveSchedule(schedule);
      return results;
    });
  }

  async delete(scheduleId: string): Promise<void> {
    await this.serialize(scheduleId, async () => {
      this.get(scheduleId);
      this.timers.get(scheduleId)?.cancel();
      this.timers.delete(scheduleId);
      this.schedules.delete(scheduleId);
      await this.store.deleteSchedule(scheduleId);
    });
  }

  private get(scheduleId: string): StoredSchedule {
    const schedule = this.schedules.get(scheduleId);
    if (!schedule) {
      throw new WfError(
        'NOT_FOUND',
        `no schedule ${JSON.stringify(scheduleId)}: \`wf schedule list\` shows the schedules`,
      );
    }
    return schedule;
  }

  private describeNow(schedule: StoredSchedule): ScheduleDescription {
    const next: string[] = [];
    if (!schedule.state.paused) {
      let t = this.nextFire(schedule, Math.max(schedule.lastFireAt ?? 0, this.kernel.clock.now() - 1));
      while (t !== undefined && next.length < 5) {
        next.push(new Date(t).toISOString());
        t = this.nextFire(schedule, t);
      }
    }
    return structuredClone({ ...schedule, nextActionTimes: next });
  }

  private serialize<T>(scheduleId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(scheduleId) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    this.queues.set(
      scheduleId,
      next.then(
        () => undefined,
        () => undefined,
      ),
    );
    return next;
  }

  private arm(schedule: StoredSchedule): void {
    this.timers.get(schedule.scheduleId)?.cancel();
    this.timers.delete(schedule.scheduleId);
    if (schedule.state.paused || this.kernel.stopped) return;
    const now = this.kernel.clock.now();
    const from = Math.max(schedule.lastFireAt ?? now, now - schedule.policies.catchupWindowMs);
    const at = this.nextFire(schedule, from);
    if (at === undefined) return;
    this.timers.set(
      schedule.scheduleId,
      this.kernel.clock.setTimer(at, () => {
        void this.serialize(schedule.scheduleId, () => this.onFire(schedule.scheduleId, at)).catch(
          (error: unknown) =>
            this.kernel.logger.warn(`schedule ${schedule.scheduleId}: ${(error as Error).message}`),
        );
      }),
    );
  }

  private async onFire(scheduleId: string, at: number): Promise<void> {
    const schedule = this.schedules.get(scheduleId);
    if (!schedule || schedule.state.paused) return;
    await this.act(schedule, at, schedule.policies.overlap);
    schedule.lastFireAt = at;
    await this.store.saveSchedule(schedule);
    this.arm(schedule);
  }

  private async drainBuffer(scheduleId: string): Promise<void> {
    const schedule = this.schedules.get(scheduleId);
    if (!schedule || schedule.buffered.length === 0) return;
    if (await this.lastRunOpen(schedule)) return;
    const at = schedule.buffered.shift()!;
    await this.start(schedule, at);
    await this.store.saveSchedule(schedule);
  }

  private async lastRunOpen(schedule: StoredSchedule): Promise<boolean> {
    if (!schedule.lastWorkflowId) return false;
    return (await this.port.status(schedule.lastWorkflowId)) === 'RUNNING';
  }

  /** One fire at `at` under `overlap`. */
  private async act(
    schedule: StoredSchedule,
    at: number,
    overlap: ScheduleOverlapPolicy,
  ): Promise<ScheduleActionResult> {
    if (await this.lastRunOpen(schedule)) {
      const previous = { workflowId: schedule.lastWorkflowId! };
      switch (overlap) {
        case 'SKIP':
          return this.record(
            schedule,
            at,
            this.workflowIdAt(schedule, at),
            'skipped',
            `${previous.workflowId} is still running`,
          );
        case 'BUFFER_ONE':
        case 'BUFFER_ALL':
          if (overlap === 'BUFFER_ALL' || schedule.buffered.length === 0) schedule.buffered.push(at);
          return this.record(
            schedule,
            at,
            this.workflowIdAt(schedule, at),
            'buffered',
            `waits for ${previous.workflowId}`,
          );
        case 'CANCEL_OTHER':
          await this.port
            .cancel(previous, `schedule ${schedule.scheduleId} started a new run`)
            .catch(() => undefined);
          break;
        case 'TERMINATE_OTHER':
          await this.port
            .terminate(previous, `schedule ${schedule.scheduleId} started a new run`)
            .catch(() => undefined);
          break;
        case 'ALLOW_ALL':
          break;
      }
    }
    return this.start(schedule, at);
  }

  private workflowIdAt(schedule: StoredSchedule, at: number): string {
    return `${schedule.action.workflowId}-${new Date(at).toISOString()}`;
  }

  private async start(schedule: StoredSchedule, at: number): Promise<ScheduleActionResult> {
    const { action } = schedule;
    const workflowId = this.workflowIdAt(schedule, at);
    try {
      const started = await this.port.start({
        workflowType: action.workflowType,
        workflowId,
        args: action.args ?? [],
        ...(action.memo === undefined ? {} : { memo: action.memo }),
        searchAttributes: { ...action.searchAttributes, TemporalScheduledById: [schedule.scheduleId] },
        ...(action.runTimeoutMs === undefined ? {} : { runTimeoutMs: action.runTimeoutMs }),
        // One run per fire time, whichever server fires it, however often.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      schedule.lastWorkflowId = workflowId;
      return this.record(schedule, at, workflowId, 'started', undefined, started.runId);
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        schedule.lastWorkflowId = workflowId;
        return this.record(
          schedule,
          at,
          workflowId,
          'already-started',
          'started before (a restart or another server)',
        );
      }
      return this.record(schedule, at, workflowId, 'failed', (error as Error).message);
    }
  }

  private record(
    schedule: StoredSchedule,
    at: number,
    workflowId: string,
    outcome: ScheduleActionResult['outcome'],
    message?: string,
    runId?: string,
  ): ScheduleActionResult {
    const result: ScheduleActionResult = {
      scheduledAt: new Date(at).toISOString(),
      takenAt: this.kernel.nowIso(),
      workflowId,
      ...(runId === undefined ? {} : { runId }),
      outcome,
      ...(message === undefined ? {} : { message }),
    };
    schedule.recentActions = [...schedule.recentActions, result].slice(-RECENT_ACTIONS);
    if (outcome === 'failed') this.kernel.logger.warn(`schedule ${schedule.scheduleId}: ${message}`);
    return result;
  }

  /** The first fire time strictly after `after` (epoch ms). */
  private nextFire(schedule: StoredSchedule, after: number): number | undefined {
    const candidates: number[] = [];
    for (const expression of schedule.spec.cronExpressions ?? []) {
      const next = new Cron(expression, { paused: true, timezone: 'UTC' }).nextRun(new Date(after));
      if (next) candidates.push(next.getTime());
    }
    for (const { everyMs, offsetMs = 0 } of schedule.spec.intervals ?? []) {
      candidates.push(offsetMs + (Math.floor((after - offsetMs) / everyMs) + 1) * everyMs);
    }
    return candidates.length ? Math.min(...candidates) : undefined;
  }

  private normalize(definition: ScheduleDefinition): StoredSchedule {
    const { scheduleId, spec, action } = definition;
    if (typeof scheduleId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(scheduleId)) {
      throw new InvalidArgumentError(
        'a schedule ID is 1 to 200 letters, digits, ".", "_" or "-", starting with a letter or digit',
      );
    }
    const cronExpressions = spec?.cronExpressions ?? [];
    const intervals = spec?.intervals ?? [];
    if (cronExpressions.length === 0 && intervals.length === 0) {
      throw new InvalidArgumentError(
        'a schedule needs a spec: cron expressions (e.g. "0 9 * * MON-FRI") or intervals (e.g. every 1h)',
      );
    }
    for (const expression of cronExpressions) {
      try {
        new Cron(expression, { paused: true, timezone: 'UTC' });
      } catch (error) {
        throw new InvalidArgumentError(
          `cron expression ${JSON.stringify(expression)}: ${(error as Error).message}`,
        );
      }
    }
    for (const interval of intervals) {
      if (!(Number.isInteger(interval.everyMs) && interval.everyMs >= 1000)) {
        throw new InvalidArgumentError('a schedule interval is at least 1 second');
      }
    }
    if (
      !action ||
      typeof action.workflowType !== 'string' ||
      typeof action.workflowId !== 'string' ||
      !action.workflowId
    ) {
      throw new InvalidArgumentError(
        'a schedule needs an action: the workflow type and the workflow ID to start',
      );
    }
    if (!this.kernel.code.sandbox.hasWorkflow(action.workflowType)) {
      throw new InvalidArgumentError(
        `schedule ${scheduleId}: no workflow ${JSON.stringify(action.workflowType)} is exported (known: ${this.kernel.code.sandbox.workflowTypes.join(', ')})`,
      );
    }
    const overlap = definition.policies?.overlap ?? 'SKIP';
    if (!Object.values(OverlapPolicies).includes(overlap)) {
      throw new InvalidArgumentError(
        `overlap policy ${JSON.stringify(overlap)} is not one of ${Object.values(OverlapPolicies).join(', ')}`,
      );
    }
    return {
      scheduleId,
      spec: { cronExpressions, intervals },
      action: {
        workflowType: action.workflowType,
        workflowId: action.workflowId,
        args: action.args ?? [],
        ...(action.memo === undefined ? {} : { memo: action.memo }),
        ...(action.searchAttributes === undefined
          ? {}
          : { searchAttributes: checkSearchAttributes('action.searchAttributes', action.searchAttributes) }),
        ...(action.runTimeoutMs === undefined ? {} : { runTimeoutMs: action.runTimeoutMs }),
      },
      policies: {
        overlap,
        catchupWindowMs: definition.policies?.catchupWindowMs ?? DEFAULT_CATCHUP_WINDOW_MS,
      },
      state: {
        paused: definition.state?.paused ?? false,
        ...(definition.state?.note === undefined ? {} : { note: definition.state.note }),
      },
      createdAt: this.kernel.nowIso(),
      lastFireAt: this.kernel.clock.now(),
      buffered: [],
      recentActions: [],
    };
  }
}
