import { randomUUID } from 'node:crypto';
import { type Duration, parseDuration } from '../common/duration.js';
import { InvalidArgumentError, WfError } from '../common/errors.js';
import { refuseCronSchedule } from '../common/request-rules.js';
import { checkSearchAttributes } from '../common/search-attributes.js';
import {
  type HistoryEvent,
  WORKFLOW_ID_CONFLICT_POLICIES,
  WORKFLOW_ID_REUSE_POLICIES,
} from '../history/events.js';
import type { RunSummary } from '../history/store.js';
import type {
  ClusterInfo,
  FiredTimer,
  ListRequest,
  ListResponse,
  RunDescription,
  RunRef,
  StartWorkflowRequest,
  StartWorkflowResponse,
  TimeControl,
  TimeInfo,
  WorkflowOutcome,
  WorkflowService,
} from '../protocol/service.js';
import type {
  QueryDefinition,
  SignalDefinition,
  UpdateDefinition,
  Workflow,
} from '../workflow/definitions.js';
import { AsyncCompletionClient } from './async-completion.js';
import { Connection } from './connection.js';
import { outcomeToError } from './errors.js';
import { ScheduleClient } from './schedule-client.js';
import { clientSpan } from './tracing.js';
import type {
  WorkflowHandle,
  WorkflowListFilter,
  WorkflowResultType,
  WorkflowSignalWithStartOptions,
  WorkflowStartOptions,
  WorkflowStartUpdateOptions,
  WorkflowUpdateOptions,
} from './workflow-handle.js';

export type {
  WorkflowHandle,
  WorkflowListFilter,
  WorkflowResultType,
  WorkflowSignalWithStartOptions,
  WorkflowStartOptions,
  WorkflowStartUpdateOptions,
  WorkflowUpdateOptions,
} from './workflow-handle.js';

import {
  existingUpdateHandle,
  type GetWorkflowUpdateHandleOptions,
  startUpdateAtStage,
  type WorkflowUpdateHandle,
  WorkflowUpdateStage,
} from './update-handle.js';
import { claimWithStart, settleWithStart, type WithStartWorkflowOperation } from './with-start.js';

/** Options of `client.workflow.executeUpdateWithStart`. */
export type WorkflowUpdateWithStartOptions<
  W extends Workflow,
  Args extends unknown[],
> = WorkflowUpdateOptions<Args> & {
  /** The workflow to start, or whose open run to update (with `workflowIdConflictPolicy: 'USE_EXISTING'`). */
  startWorkflowOperation: WithStartWorkflowOperation<W>;
};

/**
 * A typed client over any WorkflowService: the in-process engine, or a dev server over HTTP
 * (see `connect`).
 * @example
 * const client = new WorkflowClient(service);
 * const handle = await client.start(orderWorkflow, { workflowId: 'order-1', args: [order] });
 * const receipt = await handle.result();
 */
export class WorkflowClient {
  private readonly onClose: (() => Promise<void>) | undefined;
  /**
   * Async completion of activities by task token (Temporal's `client.activity`).
   * @example
   * await client.activity.complete(taskToken, 'approved');
   */
  readonly activity: AsyncCompletionClient;
  /** Temporal's `client.schedule`: schedules kept and fired by the server. */
  readonly schedule: ScheduleClient;

  readonly service: WorkflowService;

  /**
   * Over a service (the in-process engine; `onClose` releases what the client owns), or Temporal's
   * way: `new WorkflowClient({ connection })` with a connection from `Connection.connect()`
   * (without one, a connection to WF_ADDRESS or http://127.0.0.1:7466, opened on first use).
   */
  constructor(service: WorkflowService, options?: { onClose?: () => Promise<void> });
  constructor(options?: WorkflowClientOptions);
  constructor(
    serviceOrOptions: WorkflowService | WorkflowClientOptions = {},
    options: { onClose?: () => Promise<void> } = {},
  ) {
    if (isService(serviceOrOptions)) {
      this.service = serviceOrOptions;
      this.onClose = options.onClose;
    } else {
      checkNamespace(serviceOrOptions.namespace);
      const connection = serviceOrOptions.connection ?? Connection.lazy();
      this.service = connection.service;
      this.onClose = undefined; // the connection is closed by its owner: connection.close()
    }
    this.activity = new AsyncCompletionClient(this.service);
    this.schedule = new ScheduleClient(this.service);
  }

  /**
   * This client, under Temporal's name: `client.workflow.start(...)` works as `client.start(...)`,
   * so code written for Temporal's `Client` runs unchanged.
   */
  get workflow(): WorkflowClient {
    return this;
  }

  /** Starts a workflow by function (types flow from it) or by type name. */
  async start<W extends Workflow>(
    workflow: W | string,
    options: WorkflowStartOptions<W>,
  ): Promise<WorkflowHandle<W>> {
    const req = toStartRequest(workflow, options);
    const res = await startTraced('StartWorkflow', this.service, req);
    return new Handle<W>(this.service, res.workflowId, res.runId, res.runId);
  }

  /**
   * Signals a workflow, starting it first if no run of the ID is open: the usual way to feed an
   * entity-like workflow (a cart, an account) without knowing whether it runs yet.
   * @example
   * await client.signalWithStart(cartWorkflow, { workflowId: 'cart-42', args: [], signal: addItem, signalArgs: [item] });
   */
  async signalWithStart<W extends Workflow, SignalArgs extends unknown[] = []>(
    workflow: W | string,
    options: WorkflowSignalWithStartOptions<W, SignalArgs>,
  ): Promise<WorkflowHandle<W>> {
    const { signal, signalArgs, ...startOptions } = options;
    const req = toStartRequest(workflow, startOptions as WorkflowStartOptions<W>);
    req.signal = { name: typeof signal === 'string' ? signal : signal.name, args: [...(signalArgs ?? [])] };
    const res = await startTraced('SignalWithStartWorkflow', this.service, req);
    return new Handle<W>(this.service, res.workflowId, res.runId, res.runId);
  }

  /**
   * Starts the workflow of `startWorkflowOperation` (or, with USE_EXISTING, takes its open run), then
   * runs the update on that run to completion and returns its result. Unlike Temporal, the two are
   * separate steps: a client that dies between them leaves the workflow started without the update.
   * @example
   * const op = new WithStartWorkflowOperation(cartWorkflow, { workflowId: 'cart-42', workflowIdConflictPolicy: 'USE_EXISTING' });
   * const total = await client.workflow.executeUpdateWithStart(addItem, { args: [item], startWorkflowOperation: op });
   */
  async executeUpdateWithStart<W extends Workflow, Ret = unknown, Args extends unknown[] = unknown[]>(
    def: UpdateDefinition<Ret, Args> | string,
    options: WorkflowUpdateWithStartOptions<W, NoInfer<Args>>,
  ): Promise<Ret> {
    const update = await this.updateWithStart<W, Ret>(def, options, WorkflowUpdateStage.COMPLETED);
    return update.result();
  }

  /**
   * `executeUpdateWithStart` that returns once the update reached `waitForStage` (ACCEPTED: its
   * validator passed), with a handle whose `result()` waits for it to complete.
   */
  startUpdateWithStart<W extends Workflow, Ret = unknown, Args extends unknown[] = unknown[]>(
    def: UpdateDefinition<Ret, Args> | string,
    options: WorkflowUpdateWithStartOptions<W, NoInfer<Args>> & {
      waitForStage: typeof WorkflowUpdateStage.ACCEPTED | typeof WorkflowUpdateStage.COMPLETED;
    },
  ): Promise<WorkflowUpdateHandle<Ret>> {
    return this.updateWithStart<W, Ret>(def, options, options.waitForStage);
  }

  private async updateWithStart<W extends Workflow, Ret>(
    def: UpdateDefinition<Ret, never> | { name: string } | string,
    options: WorkflowUpdateWithStartOptions<W, unknown[]>,
    stage: WorkflowUpdateStage,
  ): Promise<WorkflowUpdateHandle<Ret>> {
    const op = options?.startWorkflowOperation;
    if (!op || typeof op.workflowHandle !== 'function') {
      throw new InvalidArgumentError(
        'startWorkflowOperation is required: pass new WithStartWorkflowOperation(workflow, { workflowId, workflowIdConflictPolicy })',
      );
    }
    claimWithStart(op);
    let res: { workflowId: string; runId: string };
    try {
      if (!op.options?.workflowIdConflictPolicy) {
        throw new InvalidArgumentError(
          "WithStartWorkflowOperation needs workflowIdConflictPolicy: 'USE_EXISTING' to update the open run if there is one, or 'FAIL'",
        );
      }
      res = await startTraced(
        'StartWorkflow',
        this.service,
        toStartRequest(op.workflowTypeOrFunc, op.options),
      );
    } catch (error) {
      settleWithStart(op, { error });
      throw error;
    }
    settleWithStart(op, { handle: new Handle<W>(this.service, res.workflowId, res.runId, res.runId) });
    return startUpdateAtStage<Ret>(
      {
        service: this.service,
        ref: { workflowId: res.workflowId, runId: res.runId },
        name: defName(def),
        args: [...((options.args as unknown[] | undefined) ?? [])],
        updateId: options.updateId ?? randomUUID(),
      },
      stage,
    );
  }

  /** Starts a workflow and waits for its result. */
  async execute<W extends Workflow>(
    workflow: W | string,
    options: WorkflowStartOptions<W>,
  ): Promise<WorkflowResultType<W>> {
    const req = toStartRequest(workflow, options);
    const res = await startTraced('StartWorkflow', this.service, req, true);
    const handle = new Handle<W>(this.service, res.workflowId, res.runId, res.runId);
    return res.outcome ? handle.resultFrom(res.outcome) : handle.result();
  }

  /** A handle on an existing workflow: its latest run, or the given run. Makes no call. */
  getHandle<W extends Workflow = Workflow>(workflowId: string, runId?: string): WorkflowHandle<W> {
    return new Handle<W>(this.service, workflowId, runId, undefined);
  }

  /** One page of runs, newest first. */
  listPage(req: ListRequest = {}): Promise<ListResponse> {
    return this.service.list(req);
  }

  /**
   * Every run matching the filter, newest first, fetched page by page as you iterate.
   * @example
   * for await (const run of client.list({ status: 'RUNNING' })) console.log(run.workflowId);
   */
  async *list(filter: WorkflowListFilter = {}): AsyncIterable<RunSummary> {
    let nextPageToken: string | undefined;
    do {
      const page: ListResponse = await this.service.list(
        nextPageToken === undefined ? filter : { ...filter, nextPageToken },
      );
      yield* page.runs;
      nextPageToken = page.nextPageToken;
    } while (nextPageToken);
  }

  /**
   * The servers working on the store and the build each runs (several on a shared database).
   * @example
   * const { servers } = await client.cluster();
   */
  cluster(): Promise<ClusterInfo> {
    return this.service.cluster();
  }

  /**
   * The server's time: real time plus what `skipTime` added (a `wf dev` server).
   * @example
   * const { now, offsetMs } = await client.currentTime();
   */
  currentTime(): Promise<TimeInfo> {
    return timeControlOf(this.service, 'currentTime').currentTime();
  }

  /**
   * Moves a `wf dev` server's clock forward (kept across restarts); timers due by then fire at once.
   * @example
   * await client.skipTime('3 days');
   */
  skipTime(duration: Duration): Promise<TimeInfo> {
    const ms = parseDuration(duration, 'duration');
    return timeControlOf(this.service, 'skipTime').skipTime(ms);
  }

  /** Releases what the client owns: the connections of a client from `connect()`. A service passed in stays open. */
  async close(): Promise<void> {
    await this.onClose?.();
  }
}

/** Temporal's way to make a WorkflowClient: over a connection. */
export interface WorkflowClientOptions {
  /** From `Connection.connect()`. Default: a connection to WF_ADDRESS or http://127.0.0.1:7466. */
  connection?: Connection;
  /** wf has one namespace, `default`; any other is refused. */
  namespace?: string;
}

function isService(value: WorkflowService | WorkflowClientOptions): value is WorkflowService {
  return typeof (value as Partial<WorkflowService>).startWorkflow === 'function';
}

/** Refuses a namespace other than `default`, saying why. */
export function checkNamespace(namespace: string | undefined): void {
  if (namespace === undefined || namespace === 'default') return;
  throw new InvalidArgumentError(
    `namespace ${JSON.stringify(namespace)} does not exist: wf has one namespace, "default" (leave the option out, or use a separate store per environment)`,
  );
}

function toStartRequest<W extends Workflow>(
  workflow: W | string,
  options: WorkflowStartOptions<W>,
): StartWorkflowRequest {
  const workflowType = typeof workflow === 'string' ? workflow : workflow.name;
  if (!workflowType) {
    throw new InvalidArgumentError(
      'the workflow function has no name: pass a named function (export async function myWorkflow...) or its type name',
    );
  }
  if (typeof options?.workflowId !== 'string' || options.workflowId === '') {
    throw new InvalidArgumentError(
      'workflowId is required: pass the business key of the run, e.g. "order-1001"',
    );
  }
  refuseCronSchedule('the cronSchedule option', (options as { cronSchedule?: unknown }).cronSchedule);
  const req: StartWorkflowRequest = {
    workflowType,
    workflowId: options.workflowId,
    args: [...((options.args as unknown[] | undefined) ?? [])],
  };
  if (options.workflowRunTimeout !== undefined) {
    req.runTimeoutMs = parseDuration(options.workflowRunTimeout, 'workflowRunTimeout');
  }
  if (options.workflowIdReusePolicy) {
    req.workflowIdReusePolicy = checkPolicy(
      'workflowIdReusePolicy',
      options.workflowIdReusePolicy,
      WORKFLOW_ID_REUSE_POLICIES,
      'TERMINATE_IF_RUNNING',
    );
  }
  if (options.workflowIdConflictPolicy) {
    req.workflowIdConflictPolicy = checkPolicy(
      'workflowIdConflictPolicy',
      options.workflowIdConflictPolicy,
      WORKFLOW_ID_CONFLICT_POLICIES,
      'TERMINATE_EXISTING',
    );
  }
  if (options.memo) req.memo = options.memo;
  if (options.searchAttributes) {
    req.searchAttributes = checkSearchAttributes('searchAttributes', options.searchAttributes);
  }
  return req;
}

/** The policy if wf has it; else an InvalidArgumentError listing the values (and why not Temporal's terminating one). */
function checkPolicy<P extends string>(
  option: string,
  value: string,
  allowed: readonly P[],
  terminating: string,
): P {
  if ((allowed as readonly string[]).includes(value)) return value as P;
  const why =
    value === terminating
      ? ': wf does not terminate an open run on start; terminate it first (handle.terminate()), then start'
      : '';
  throw new InvalidArgumentError(
    `${option} ${JSON.stringify(value)} is not supported${why}. Use one of ${allowed.join(', ')}`,
  );
}

function timeControlOf<K extends keyof TimeControl>(
  service: WorkflowService,
  method: K,
): Pick<TimeControl, K> {
  const candidate = service as WorkflowService & Partial<TimeControl>;
  if (typeof candidate[method] !== 'function') {
    throw new WfError(
      'UNAVAILABLE',
      `this client's service has no ${method}: time control is a wf dev feature (in tests, TestWorkflowEnvironment.sleep skips time)`,
    );
  }
  return candidate as Pick<TimeControl, K>;
}

/** A start in a client span (`StartWorkflow:<type>`) whose W3C context travels with the request. */
/**
 * Starts a run inside the client's span. `andWait`: also wait for the outcome in the same call where
 * the service can (one request instead of two), unless the span is recorded: its duration is the
 * start's alone.
 */
function startTraced(
  what: 'StartWorkflow' | 'SignalWithStartWorkflow',
  service: WorkflowService,
  req: StartWorkflowRequest,
  andWait = false,
): Promise<StartWorkflowResponse & { outcome?: WorkflowOutcome }> {
  return clientSpan(
    `${what}:${req.workflowType}`,
    { 'wf.workflow.type': req.workflowType, 'wf.workflow.id': req.workflowId },
    async (header, span) => {
      const traced = header ? { ...req, header } : req;
      const res =
        andWait && service.startWorkflowAndWait && !span.isRecording()
          ? await service.startWorkflowAndWait(traced)
          : await service.startWorkflow(traced);
      span.setAttribute('wf.run.id', res.runId);
      return res;
    },
  );
}

function defName(def: { name: string } | string): string {
  return typeof def === 'string' ? def : def.name;
}

class Handle<W extends Workflow> implements WorkflowHandle<W> {
  constructor(
    private readonly service: WorkflowService,
    readonly workflowId: string,
    readonly runId: string | undefined,
    readonly firstExecutionRunId: string | undefined,
  ) {}

  private spanAttributes(): Record<string, string> {
    return {
      'wf.workflow.id': this.workflowId,
      ...(this.runId === undefined ? {} : { 'wf.run.id': this.runId }),
    };
  }

  /** Calls target the run for a handle from getHandle(id, runId), else the latest run. */
  private get ref(): RunRef {
    return this.firstExecutionRunId === undefined && this.runId !== undefined
      ? { workflowId: this.workflowId, runId: this.runId }
      : { workflowId: this.workflowId };
  }

  async result(): Promise<WorkflowResultType<W>> {
    return this.resultFrom(undefined);
  }

  /** The result, from `known` (the run's outcome, had with its start) or else asked of the service. */
  async resultFrom(known: WorkflowOutcome | undefined): Promise<WorkflowResultType<W>> {
    let runId = this.runId;
    let next = known;
    for (;;) {
      const outcome =
        next ??
        (await this.service.result({
          workflowId: this.workflowId,
          ...(runId === undefined ? {} : { runId }),
          followRuns: true,
        }));
      next = undefined;
      if (outcome.status === 'COMPLETED') return outcome.result as WorkflowResultType<W>;
      // A service that did not follow the chain itself: follow it here.
      if (outcome.status === 'CONTINUED_AS_NEW') {
        runId = outcome.newRunId;
        continue;
      }
      throw outcomeToError(this.workflowId, runId, outcome);
    }
  }

  signal<Args extends unknown[] = unknown[]>(
    def: SignalDefinition<Args> | string,
    ...args: Args
  ): Promise<void> {
    const name = defName(def);
    return clientSpan(`SignalWorkflow:${name}`, this.spanAttributes(), (header) =>
      this.service.signal(this.ref, name, args, undefined, header),
    );
  }

  async query<Ret = unknown, Args extends unknown[] = unknown[]>(
    def: QueryDefinition<Ret, Args> | string,
    ...args: Args
  ): Promise<Ret> {
    const name = defName(def);
    return (await clientSpan(`QueryWorkflow:${name}`, this.spanAttributes(), () =>
      this.service.query(this.ref, name, args),
    )) as Ret;
  }

  async executeUpdate<Ret = unknown, Args extends unknown[] = unknown[]>(
    def: UpdateDefinition<Ret, Args> | string,
    options?: { args?: Args; updateId?: string },
  ): Promise<Ret> {
    const name = defName(def);
    return (await clientSpan(`UpdateWorkflow:${name}`, this.spanAttributes(), (header) =>
      this.service.update(this.ref, name, options?.args ?? [], options?.updateId, header),
    )) as Ret;
  }

  async update<Ret = unknown, Args extends unknown[] = unknown[]>(
    def: UpdateDefinition<Ret, Args> | string,
    ...args: Args
  ): Promise<Ret> {
    const name = defName(def);
    return (await clientSpan(`UpdateWorkflow:${name}`, this.spanAttributes(), (header) =>
      this.service.update(this.ref, name, args, undefined, header),
    )) as Ret;
  }

  startUpdate<Ret = unknown, Args extends unknown[] = unknown[]>(
    def: UpdateDefinition<Ret, Args> | string,
    options: WorkflowStartUpdateOptions<Args>,
  ): Promise<WorkflowUpdateHandle<Ret>> {
    return startUpdateAtStage<Ret>(
      {
        service: this.service,
        ref: this.ref,
        name: defName(def),
        args: [...(options?.args ?? [])],
        updateId: options?.updateId ?? randomUUID(),
      },
      options?.waitForStage,
    );
  }

  getUpdateHandle<Ret = unknown>(
    updateId: string,
    options: GetWorkflowUpdateHandleOptions = {},
  ): WorkflowUpdateHandle<Ret> {
    const ref: RunRef =
      options.workflowRunId === undefined
        ? this.ref
        : { workflowId: this.workflowId, runId: options.workflowRunId };
    return existingUpdateHandle<Ret>(this.service, ref, updateId);
  }

  cancel(reason?: string): Promise<void> {
    return this.service.cancel(this.ref, reason);
  }

  terminate(reason?: string): Promise<void> {
    return this.service.terminate(this.ref, reason);
  }

  describe(): Promise<RunDescription> {
    return this.service.describe(this.ref);
  }

  history(): Promise<HistoryEvent[]> {
    return this.service.history(this.ref);
  }

  fetchHistory(): Promise<HistoryEvent[]> {
    return this.history();
  }

  fireTimer(seq?: number): Promise<FiredTimer> {
    return timeControlOf(this.service, 'fireTimer').fireTimer(this.ref, seq);
  }
}
