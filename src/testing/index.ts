/**
 * `wfkit/testing`: run workflows in-process, with no server, real or mocked activities and time
 * skipping. It is the engine `wf dev` runs, on a memory store and a virtual clock, so a history
 * recorded here replays identically under `wf dev` and `wf replay`.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ActivityLogRecord } from '../activity/log.js';
import { WorkflowClient } from '../client/client.js';
import { parseHistoryJsonl } from '../history/codec.js';
import type { HistoryEvent } from '../history/events.js';
import { MemoryHistoryStore } from '../history/memory-store.js';
import type { ResultRequest, WorkflowOutcome, WorkflowService } from '../protocol/service.js';
import { type Clock, RealClock, VirtualClock } from '../runtime/clock.js';
import { type ActivityFunction, WorkflowEngine } from '../runtime/engine/index.js';
import { RunExecutor } from '../runtime/executor.js';
import { conventionalActivitiesPath } from '../runtime/project.js';
import { type LoadedWorkflowCode, loadWorkflowCode } from '../runtime/workflow-code.js';
import { type Duration, toMs } from '../workflow/duration.js';

export type { ActivityLogRecord } from '../activity/log.js';
export { parseHistoryJsonl, serializeHistoryJsonl } from '../history/codec.js';
export { NonDeterminismError } from '../runtime/errors.js';
export {
  defaultActivityInfo,
  MockActivityEnvironment,
  type MockActivityEnvironmentOptions,
} from './mock-activity-environment.js';
export { WorkflowClient };

export interface TestEnvironmentOptions {
  /** The workflows entry, e.g. `path.resolve('src/workflows/index.ts')`. */
  workflowsPath: string;
  /** The activities entry whose imports in workflow code become activity references. Default: src/activities next to the workflows. */
  activitiesPath?: string;
  /** The activity implementations to run: real ones, or mocks with the same names. */
  activities?: Record<string, ActivityFunction>;
  /** Virtual start time (time-skipping environments). Default: now. */
  startTime?: Date | number;
  /** An activation that runs longer than this without yielding fails as a deadlock. Default 5 s. */
  activationTimeoutMs?: number;
  /** Receives workflow `log` calls. Default: silent. */
  log?: (
    runId: string,
    record: { level: string; message: string; attributes?: Record<string, unknown> },
  ) => void;
  /** Receives activity `log` calls, each with its activity's context. Default: silent. */
  activityLog?: (record: ActivityLogRecord) => void;
}

/**
 * A workflow engine in this process for tests.
 *
 * @example
 * const env = await TestWorkflowEnvironment.createTimeSkipping({ workflowsPath, activities: { chargeCard: async () => 'ok' } });
 * const result = await env.client.execute(orderWorkflow, { workflowId: 'order-1', args: [order] });
 * await env.teardown();
 */
export class TestWorkflowEnvironment {
  /** A client with the same interface as `wfkit/client`'s. */
  readonly client: WorkflowClient;

  private constructor(
    readonly engine: WorkflowEngine,
    readonly store: MemoryHistoryStore,
    readonly clock: Clock,
    readonly code: LoadedWorkflowCode,
  ) {
    const service = clock instanceof VirtualClock ? timeSkipping(engine, clock) : engine;
    this.client = new WorkflowClient(service);
  }

  /** Timers and retry backoffs are skipped: time jumps to the next deadline whenever nothing else can happen. */
  static async createTimeSkipping(options: TestEnvironmentOptions): Promise<TestWorkflowEnvironment> {
    const start = options.startTime === undefined ? Date.now() : new Date(options.startTime).getTime();
    return TestWorkflowEnvironment.create(options, new VirtualClock(start));
  }

  /** Real time: timers take as long as they say. */
  static async createLocal(options: TestEnvironmentOptions): Promise<TestWorkflowEnvironment> {
    return TestWorkflowEnvironment.create(options, new RealClock());
  }

  private static async create(
    options: TestEnvironmentOptions,
    clock: Clock,
  ): Promise<TestWorkflowEnvironment> {
    const workflowsPath = resolve(options.workflowsPath);
    const activitiesPath = options.activitiesPath ?? conventionalActivitiesPath(workflowsPath);
    const code = await loadWorkflowCode({
      workflowsPath,
      ...(activitiesPath ? { activitiesPath } : {}),
      log: options.log ?? (() => undefined),
      ...(options.activationTimeoutMs === undefined
        ? {}
        : { activationTimeoutMs: options.activationTimeoutMs }),
    });
    const store = new MemoryHistoryStore();
    const engine = new WorkflowEngine({
      store,
      code,
      clock,
      activities: options.activities ?? {},
      ...(options.activityLog ? { activityLog: options.activityLog } : {}),
    });
    return new TestWorkflowEnvironment(engine, store, clock, code);
  }

  /** The environment's current time (virtual when skipping). */
  currentTimeMs(): number {
    return this.clock.now();
  }

  /**
   * Moves virtual time forward by `duration`, firing every timer due on the way, in order. It waits
   * for the workflow work each timer causes, not for running activities: it may be called while an
   * activity runs, or from inside one (to stand for a long activity, as in Temporal's tests).
   */
  async sleep(duration: Duration): Promise<void> {
    const target = this.clock.now() + toMs(duration, 'sleep duration');
    if (!(this.clock instanceof VirtualClock)) {
      await new Promise((r) => setTimeout(r, target - this.clock.now()));
      return;
    }
    const clock = this.clock;
    await settleWorkflows(this.engine);
    for (;;) {
      const next = clock.nextTimerAt();
      if (next === undefined || next > target) break;
      clock.advanceTo(next);
      await settleWorkflows(this.engine);
    }
    clock.advanceTo(target);
    await settleWorkflows(this.engine);
  }

  /** The recorded history of a workflow's latest run (or of `runId`). */
  history(workflowId: string, runId?: string): Promise<HistoryEvent[]> {
    return this.engine.history(runId ? { workflowId, runId } : { workflowId });
  }

  async teardown(): Promise<void> {
    await this.engine.shutdown();
    await this.store.close();
  }
}

async function settle(engine: WorkflowEngine): Promise<void> {
  await new Promise((r) => setImmediate(r));
  await engine.waitForIdle();
  await new Promise((r) => setImmediate(r));
}

/** Lets the engine finish the appends and activations in flight; running activities go on. */
async function settleWorkflows(engine: WorkflowEngine): Promise<void> {
  await new Promise((r) => setImmediate(r));
  await engine.waitForSettled();
  await new Promise((r) => setImmediate(r));
}

/**
 * Wraps the engine so that waiting for a result (or an update) lets virtual time run: time jumps
 * to the next timer whenever nothing else can happen (no workflow work in flight, and no activity
 * doing real work: one in `Context.current().sleep` or waiting for async completion does not count).
 */
function timeSkipping(engine: WorkflowEngine, clock: VirtualClock): WorkflowService {
  const skipWhile = async <T>(promise: Promise<T>): Promise<T> => {
    let done = false;
    const tracked = promise.finally(() => {
      done = true;
    });
    tracked.catch(() => undefined);
    while (!done) {
      await settle(engine);
      if (done) break;
      if (engine.isIdle() && clock.advanceToNextTimer()) continue;
      await Promise.race([
        tracked.then(
          () => undefined,
          () => undefined,
        ),
        new Promise((r) => setTimeout(r, 5)),
      ]);
    }
    return tracked;
  };
  return new Proxy(engine, {
    get(target, property, receiver) {
      if (property === 'result') {
        return (req: ResultRequest): Promise<WorkflowOutcome> => skipWhile(target.result(req));
      }
      if (property === 'update') {
        return (...args: Parameters<WorkflowEngine['update']>) => skipWhile(target.update(...args));
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export interface ReplayOptions {
  workflowsPath: string;
  activitiesPath?: string;
}

/**
 * Replays a recorded history against the workflow code; throws NonDeterminismError if the code no
 * longer produces it. `history` is the events, or the path of a JSON Lines history file.
 *
 * @example
 * await runReplayHistory({ workflowsPath }, 'test/fixtures/order-happy-path.jsonl');
 */
export async function runReplayHistory(
  options: ReplayOptions,
  history: HistoryEvent[] | string,
): Promise<void> {
  const events =
    typeof history === 'string' ? parseHistoryJsonl(await readFile(history, 'utf8'), history) : history;
  const workflowsPath = resolve(options.workflowsPath);
  const activitiesPath = options.activitiesPath ?? conventionalActivitiesPath(workflowsPath);
  const code = await loadWorkflowCode({ workflowsPath, ...(activitiesPath ? { activitiesPath } : {}) });
  RunExecutor.replay(events, { sandbox: code.sandbox, resolveCallSite: code.resolveCallSite });
}
