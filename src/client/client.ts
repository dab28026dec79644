import { type Duration, parseDuration } from '../common/duration.js';
import { InvalidArgumentError, WfError } from '../common/errors.js';
import { refuseCronSchedule } from '../common/request-rules.js';
import { checkSearchAttributes, type SearchAttributeValue } from '../common/search-attributes.js';
import type { HistoryEvent, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '../history/events.js';
import type { RunSummary } from '../history/store.js';
import type {
  ClusterInfo,
  FiredTimer,
  ListRequest,
  ListResponse,
  RunDescription,
  RunRef,
  StartWorkflowRequest,
  TimeControl,
  TimeInfo,
  WorkflowService,
} from '../protocol/service.js';
import type {
  QueryDefinition,
  SignalDefinition,
  UpdateDefinition,
  Workflow,
} from '../workflow/definitions.js';
import { AsyncCompletionClient } from './async-completion.js';
import { outcomeToError } from './errors.js';

/** What a workflow function resolves to. */
export type WorkflowResultType<W extends Workflow> = Awaited<ReturnType<W>>;

/** `args` is required exactly when the workflow takes a required argument. */
type ArgsOption<Args extends unknown[]> = [] extends Args ? { args?: Args } : { args: Args };

interface BaseStartOptions {
  /** The business key of the run; unique among open runs. */
  workflowId: string;
  /** What to do when a closed run with this ID exists. Default ALLOW_DUPLICATE. */
  workflowIdReusePolicy?: WorkflowIdReusePolicy;
  /** What to do when an open run with this ID exists. Default FAIL. */
  workflowIdConflictPolicy?: WorkflowIdConflictPolicy;
  /** Fails the run with a TimeoutFailure once this long has passed: milliseconds or '30s', '2h'... */
  workflowRunTimeout?: Duration;
  /** Free-form data shown by describe, not seen by the workflow. */
  memo?: Record<string, unknown>;
  /** Search attributes of the run (`workflowInfo().searchAttributes`; list filters on them). */
  searchAttributes?: Record<string, SearchAttributeValue | SearchAttributeValue[]>;
  /**
   * Refused: wf does not run cron workflows (nor Temporal's Schedules, yet). A start with this
   * option fails with an InvalidArgumentError and starts nothing.
   */
  cronSchedule?: string;
}

/** Options of `client.start` and `client.execute`; `args` typed by the workflow function. */
export type WorkflowStartOptions<W extends Workflow = Workflow> = BaseStartOptions &
  ArgsOption<Parameters<W>>;

/** Options of `client.signalWithStart`: the start options plus the signal to deliver. */
export type WorkflowSignalWithStartOptions<
  W extends Workflow,
  SignalArgs extends unknown[],
> = WorkflowStartOptions<W> & {
  signal: SignalDefinition<SignalArgs> | string;
  signalArgs?: SignalArgs;
};

/** Options of `handle.executeUpdate`. */
export type WorkflowUpdateOptions<Args extends unknown[]> = { updateId?: string } & ArgsOption<Args>;

/** Filter of `client.list`. */
export interface WorkflowListFilter extends Omit<ListRequest, 'nextPageToken'> {}

/**
 * A handle on one workflow: signal it, query it, update it, wait for its result.
 * A handle from `start` follows the workflow ID (signals reach the latest run, `result()` follows
 * continue-as-new from the first run); a handle from `getHandle(id, runId)` targets that run.
 */
export interface WorkflowHandle<W extends Workflow = Workflow> {
  readonly workflowId: string;
  /** The run this handle was created for: the first run for a handle from `start`. */
  readonly runId: string | undefined;
  /** The run `start` created (Temporal's name); undefined for handles from `getHandle`. */
  readonly firstExecutionRunId: string | undefined;
  /**
   * Waits for the workflow to close, following continue-as-new, and returns its result.
   * Throws WorkflowFailedError (with `cause`) if it failed, was cancelled, terminated or timed out.
   */
  result(): Promise<WorkflowResultType<W>>;
  /**
   * Sends a signal.
   * @example
   * await handle.signal(approve, 'ada');
   */
  signal<Args extends unknown[] = unknown[]>(
    def: SignalDefinition<Args> | string,
    ...args: NoInfer<Args>
  ): Promise<void>;
  /**
   * Runs a query against the workflow's current state.
   * @example
   * const pct = await handle.query(progress);
   */
  query<Ret = unknown, Args extends unknown[] = unknown[]>(
    def: QueryDefinition<Ret, Args> | string,
    ...args: NoInfer<Args>
  ): Promise<Ret>;
  /**
   * Runs an update to completion and returns its result.
   * @example
   * const total = await handle.executeUpdate(setDiscount, { args: [10] });
   */
  executeUpdate<Ret = unknown, Args extends unknown[] = unknown[]>(
    def: UpdateDefinition<Ret, Args> | string,
    ...options: [] extends Args
      ? [options?: WorkflowUpdateOptions<NoInfer<Args>>]
      : [options: WorkflowUpdateOptions<NoInfer<Args>>]
  ): Promise<Ret>;
  /** `executeUpdate` with positional arguments. */
  update<Ret = unknown, Args extends unknown[] = unknown[]>(
    def: UpdateDefinition<Ret, Args> | string,
    ...args: NoInfer<Args>
  ): Promise<Ret>;
  /** Asks the workflow to cancel; its code sees a CancelledFailure and may clean up. */
  cancel(reason?: string): Promise<void>;
  /** Stops the run at once, running no more of its code. */
  terminate(reason?: string): Promise<void>;
  describe(): Promise<RunDescription>;
  /** The run's event history. */
  history(): Promise<HistoryEvent[]>;
  /** Temporal's name for `history()`. */
  fetchHistory(): Promise<HistoryEvent[]>;
  /**
   * Fires a pending timer of the run now (a `wf dev` server, or the in-process engine): the
   * earliest one, or the one numbered `seq` (see `describe().pendingTimers`).
   * @example
   * await handle.fireTimer(); // the approval's three-day reminder, now
   */
  fireTimer(seq?: number): Promise<FiredTimer>;
}

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

  /** `onClose` releases what the client owns (connect() passes the HTTP transport's close). */
  constructor(
    readonly service: WorkflowService,
    options: { onClose?: () => Promise<void> } = {},
  ) {
    this.onClose = options.onClose;
    this.activity = new AsyncCompletionClient(service);
  }

  /** Starts a workflow by function (types flow from it) or by type name. */
  async start<W extends Workflow>(
    workflow: W | string,
    options: WorkflowStartOptions<W>,
  ): Promise<WorkflowHandle<W>> {
    const req = toStartRequest(workflow, options);
    const res = await this.service.startWorkflow(req);
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
    const res = await this.service.startWorkflow(req);
    return new Handle<W>(this.service, res.workflowId, res.runId, res.runId);
  }

  /** Starts a workflow and waits for its result. */
  async execute<W extends Workflow>(
    workflow: W | string,
    options: WorkflowStartOptions<W>,
  ): Promise<WorkflowResultType<W>> {
    const handle = await this.start(workflow, options);
    return handle.result();
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
  if (options.workflowIdReusePolicy) req.workflowIdReusePolicy = options.workflowIdReusePolicy;
  if (options.workflowIdConflictPolicy) req.workflowIdConflictPolicy = options.workflowIdConflictPolicy;
  if (options.memo) req.memo = options.memo;
  if (options.searchAttributes)
    req.searchAttributes = checkSearchAttributes('searchAttributes', options.searchAttributes);
  return req;
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

  /** Calls target the run for a handle from getHandle(id, runId), else the latest run. */
  private get ref(): RunRef {
    return this.firstExecutionRunId === undefined && this.runId !== undefined
      ? { workflowId: this.workflowId, runId: this.runId }
      : { workflowId: this.workflowId };
  }

  async result(): Promise<WorkflowResultType<W>> {
    let runId = this.runId;
    for (;;) {
      const outcome = await this.service.result({
        workflowId: this.workflowId,
        ...(runId === undefined ? {} : { runId }),
        followRuns: true,
      });
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
    return this.service.signal(this.ref, defName(def), args);
  }

  async query<Ret = unknown, Args extends unknown[] = unknown[]>(
    def: QueryDefinition<Ret, Args> | string,
    ...args: Args
  ): Promise<Ret> {
    return (await this.service.query(this.ref, defName(def), args)) as Ret;
  }

  async executeUpdate<Ret = unknown, Args extends unknown[] = unknown[]>(
    def: UpdateDefinition<Ret, Args> | string,
    options?: { args?: Args; updateId?: string },
  ): Promise<Ret> {
    return (await this.service.update(this.ref, defName(def), options?.args ?? [], options?.updateId)) as Ret;
  }

  async update<Ret = unknown, Args extends unknown[] = unknown[]>(
    def: UpdateDefinition<Ret, Args> | string,
    ...args: Args
  ): Promise<Ret> {
    return (await this.service.update(this.ref, defName(def), args)) as Ret;
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
