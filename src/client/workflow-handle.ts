/** The types of workflow handles and their options (shared by the client and update-with-start). */
import type { Duration } from '../common/duration.js';
import type { SearchAttributeValue } from '../common/search-attributes.js';
import type { HistoryEvent, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '../history/events.js';
import type { FiredTimer, ListRequest, RunDescription } from '../protocol/service.js';
import type {
  QueryDefinition,
  SignalDefinition,
  UpdateDefinition,
  Workflow,
} from '../workflow/definitions.js';
import type {
  GetWorkflowUpdateHandleOptions,
  WorkflowUpdateHandle,
  WorkflowUpdateStage,
} from './update-handle.js';

/** What a workflow function resolves to. */
export type WorkflowResultType<W extends Workflow> = Awaited<ReturnType<W>>;

/** `args` is required exactly when the workflow takes a required argument. */
export type ArgsOption<Args extends unknown[]> = [] extends Args ? { args?: Args } : { args: Args };

export interface BaseStartOptions {
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
   * Accepted for Temporal code and not used: wf runs every workflow in the process that holds its
   * store, so there are no workers to route to (`workflowInfo().taskQueue` is `default`).
   */
  taskQueue?: string;
  /**
   * Refused: wf does not run cron workflows (use `client.schedule` instead). A start with this
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

/** Options of `handle.startUpdate`: the update's options plus the stage to wait for. */
export type WorkflowStartUpdateOptions<Args extends unknown[]> = WorkflowUpdateOptions<Args> & {
  /** ACCEPTED: return once the validator passed; COMPLETED: once the handler finished. */
  waitForStage: typeof WorkflowUpdateStage.ACCEPTED | typeof WorkflowUpdateStage.COMPLETED;
};

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
  /**
   * Sends an update and returns a handle on it once it reached `waitForStage`: ACCEPTED (its
   * validator passed) or COMPLETED. Throws WorkflowUpdateFailedError if the validator rejects it.
   * @example
   * const update = await handle.startUpdate(setDiscount, { args: [10], waitForStage: WorkflowUpdateStage.ACCEPTED });
   * const total = await update.result();
   */
  startUpdate<Ret = unknown, Args extends unknown[] = unknown[]>(
    def: UpdateDefinition<Ret, Args> | string,
    options: WorkflowStartUpdateOptions<NoInfer<Args>>,
  ): Promise<WorkflowUpdateHandle<Ret>>;
  /**
   * A handle on an update sent earlier with this ID; its `result()` waits for the update to complete.
   * Makes no call until `result()`.
   */
  getUpdateHandle<Ret = unknown>(
    updateId: string,
    options?: GetWorkflowUpdateHandleOptions,
  ): WorkflowUpdateHandle<Ret>;
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
