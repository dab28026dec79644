/** Who and where the running activity is: Temporal's `Info`, plus wf's own `idempotencyKey`. */
export interface Info {
  /**
   * Names this attempt for async completion (`client.activity.complete(taskToken, result)` after the
   * activity threw `CompleteAsyncError`). wf's token is the UTF-8 JSON of the workflow ID, run ID,
   * activity ID, the activity's sequence number in the run and the attempt number: a token of an
   * earlier attempt is refused. Not a secret: anyone who can reach the API can already cancel the run.
   */
  readonly taskToken: Uint8Array;
  /** {@link taskToken} in base64 (what the HTTP API and `wf activity complete` take). */
  readonly base64TaskToken: string;
  readonly activityId: string;
  /** The activity function's name. */
  readonly activityType: string;
  /** 1 for the first attempt, 2 for the first retry... */
  readonly attempt: number;
  /** Always false: wf has no local activities (each activity is recorded in the history). */
  readonly isLocal: boolean;
  /** The run that scheduled the activity. */
  readonly workflowExecution: { readonly workflowId: string; readonly runId: string };
  readonly workflowType: string;
  /** Always `default`: wf has one namespace. */
  readonly namespace: string;
  /** @deprecated Temporal's old name for {@link namespace}. */
  readonly activityNamespace: string;
  /** @deprecated Temporal's old name for {@link namespace}. */
  readonly workflowNamespace: string;
  /** Always `default`: wf runs every activity in its own process, with no task queues. */
  readonly taskQueue: string;
  /** Always true: wf runs activities only for workflows. */
  readonly inWorkflow: boolean;
  /** When the activity was first scheduled (epoch ms); the same for every attempt. */
  readonly scheduledTimestampMs: number;
  /** When this attempt was scheduled (epoch ms): the first schedule, or the end of the retry backoff. */
  readonly currentAttemptScheduledTimestampMs: number;
  /** The schedule-to-close timeout in ms; 0 when there is none. */
  readonly scheduleToCloseTimeoutMs: number;
  /** The start-to-close timeout in ms (the schedule-to-close timeout when only that is set). */
  readonly startToCloseTimeoutMs: number;
  /** The heartbeat timeout in ms, if the activity has one. */
  readonly heartbeatTimeoutMs?: number;
  /** The details of the last heartbeat of an earlier attempt (or of this one, so far): resume from them. */
  // biome-ignore lint/suspicious/noExplicitAny: Temporal types it any, so that `info.heartbeatDetails || 1` and destructuring type-check unchanged
  readonly heartbeatDetails: any;
  /** The retry policy the activity was scheduled with. */
  readonly retryPolicy?: {
    readonly initialInterval: number;
    readonly backoffCoefficient: number;
    readonly maximumInterval: number;
    /** 0 means unlimited. */
    readonly maximumAttempts: number;
    readonly nonRetryableErrorTypes: readonly string[];
  };
  /** wf's shorthand for `workflowExecution.workflowId`. */
  readonly workflowId: string;
  /** wf's shorthand for `workflowExecution.runId`. */
  readonly runId: string;
  /**
   * Stable across retries and restarts of this activity: pass it to payment providers and other
   * services as their idempotency key, so an attempt repeated after a crash is not applied twice.
   */
  readonly idempotencyKey: string;
  /** wf's name for {@link scheduledTimestampMs}, as a Date. */
  readonly scheduledTime: Date;
}

/** wf's earlier name for {@link Info}. */
export type ActivityInfo = Info;
