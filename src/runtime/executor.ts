import { randomUUID } from 'node:crypto';
import { mergeSearchAttributes, type SearchAttributes } from '../common/search-attributes.js';
import type {
  ActivityTaskScheduled,
  CallSite,
  FailureInfo,
  HistoryEvent,
  NewEvent,
  ParentClosePolicy,
  RunStatus,
  WorkflowExecutionStarted,
} from '../history/events.js';
import { HISTORY_FORMAT_VERSION, statusOfClosingEvent } from '../history/events.js';
import type {
  Activation,
  Command,
  Job,
  QueryOutcome,
  RunInfoInput,
  UpdateValidation,
} from '../workflow/protocol.js';
import { describeCommand, describeEvent, NonDeterminismError, type WaitPoint } from './errors.js';
import type { SandboxRun, WorkflowSandbox } from './sandbox.js';

/** How an event takes part in replay. */
export type EventRole = 'input' | 'command' | 'info' | 'external-close';

export function roleOf(event: HistoryEvent): EventRole {
  switch (event.type) {
    case 'WorkflowExecutionStarted':
    case 'ActivityTaskCompleted':
    case 'TimerFired':
    case 'WorkflowSignaled':
    case 'WorkflowUpdateAccepted':
    case 'ChildWorkflowExecutionCompleted':
    case 'ChildWorkflowExecutionFailed':
    case 'WorkflowExecutionCancelRequested':
    case 'ExternalWorkflowExecutionSignaled':
    case 'SignalExternalWorkflowExecutionFailed':
    case 'ExternalWorkflowExecutionCancelRequested':
    case 'RequestCancelExternalWorkflowExecutionFailed':
      return 'input';
    case 'ActivityTaskFailed':
    case 'ActivityTaskTimedOut':
      return event.nextRetryDelayMs === undefined ? 'input' : 'info';
    case 'ActivityTaskScheduled':
    case 'ActivityTaskCancelRequested':
    case 'TimerStarted':
    case 'TimerCanceled':
    case 'ChildWorkflowExecutionStarted':
    case 'ChildWorkflowExecutionCancelRequested':
    case 'SignalExternalWorkflowExecutionInitiated':
    case 'RequestCancelExternalWorkflowExecutionInitiated':
    case 'MarkerRecorded':
    case 'UpsertWorkflowSearchAttributes':
    case 'WorkflowUpdateCompleted':
    case 'WorkflowExecutionCompleted':
    case 'WorkflowExecutionFailed':
    case 'WorkflowExecutionCanceled':
    case 'WorkflowExecutionContinuedAsNew':
      return 'command';
    case 'ActivityTaskStarted':
    case 'ActivityTaskCanceled':
    case 'WorkflowUpdateRejected':
      return 'info';
    case 'WorkflowExecutionTerminated':
    case 'WorkflowExecutionTimedOut':
      return 'external-close';
    default:
      return (event satisfies never as HistoryEvent).type as never;
  }
}

export interface PendingActivity {
  scheduled: ActivityTaskScheduled;
  /** The attempt to run next (or running). */
  attempt: number;
  /** Set while waiting to retry: when the next attempt may start (epoch ms). */
  retryAt?: number;
  lastFailure?: FailureInfo;
  cancelRequested: boolean;
  /** Set while the current attempt waits for async completion by its task token (epoch ms it started). */
  asyncCompletion?: { startedAt: number };
}

export interface PendingChild {
  seq: number;
  /** The workflow asked for its cancellation (ChildWorkflowExecutionCancelRequested). */
  cancelRequested?: boolean;
  args: unknown[];
  workflowType: string;
  workflowId: string;
  runId: string;
  parentClosePolicy: ParentClosePolicy;
}

export interface ExecutorOptions {
  sandbox: WorkflowSandbox;
  /** Maps a command's stack to the user's source line. */
  resolveCallSite?: (stack: string) => CallSite | undefined;
}

export interface RunIdentity {
  workflowId: string;
  runId: string;
  workflowType: string;
}

/**
 * The deterministic state machine of one run: it feeds inputs to the workflow code, turns the
 * commands it issues into events, and, when replaying, checks each command against the recorded
 * event. It knows nothing of stores, clocks or activities' code: the engine carries out the events.
 *
 * Each input event triggers one activation, and the commands of that activation are recorded right
 * after it; that is the invariant replay relies on.
 */

/** What a new run's WorkflowExecutionStarted records, but its position and time. */
type NewRunStart = Omit<WorkflowExecutionStarted, 'eventId' | 'eventTime' | 'formatVersion' | 'type'>;

export class RunExecutor {
  readonly identity: RunIdentity;
  readonly started: WorkflowExecutionStarted;
  status: RunStatus = 'RUNNING';
  nextEventId = 1;
  lastEventTime = 0;
  readonly activities = new Map<number, PendingActivity>();
  readonly timers = new Map<number, { seq: number; fireAt: number; callSite?: CallSite }>();
  readonly children = new Map<number, PendingChild>();
  readonly openUpdates = new Set<string>();
  /** Request IDs of the signals recorded, to record a repeated request once. */
  readonly signalRequests = new Set<string>();
  /** Signals to other workflows recorded but not yet delivered (re-sent after a restart). */
  readonly externalSignals = new Map<
    number,
    { workflowId: string; runId?: string; signalName: string; args: unknown[] }
  >();
  /** Cancel requests to other workflows recorded but not yet delivered. */
  readonly externalCancels = new Map<number, { workflowId: string; runId?: string }>();
  /** Outcomes of completed updates by ID, to answer a retried update without running it again. */
  readonly completedUpdates = new Map<string, { result?: unknown; failure?: FailureInfo }>();
  /** The run's search attributes: those given at start, then every upsert. */
  searchAttributes: SearchAttributes = {};
  /** Update names by ID, to point a divergence at an update's handler. */
  private readonly updateNames = new Map<string, string>();
  private run: SandboxRun;
  /** Replayed commands carry their stacks (a second replay, to report a divergence). */
  private captureStacks = false;
  private readonly resolveCallSite: (stack: string) => CallSite | undefined;

  /** `run`: the run's instance of the workflow code; a new one unless given (none for a plan). */
  private constructor(started: WorkflowExecutionStarted, options: ExecutorOptions, run?: SandboxRun | null) {
    this.started = started;
    this.identity = {
      workflowId: started.workflowId,
      runId: started.runId,
      workflowType: started.workflowType,
    };
    this.resolveCallSite = options.resolveCallSite ?? (() => undefined);
    this.run = run === undefined ? options.sandbox.createRun(runInfoOf(started)) : (run as SandboxRun);
  }

  /** Starts a new run: returns its first events (started, and the commands of its first activation). */
  static start(
    started: NewRunStart,
    now: number,
    options: ExecutorOptions,
    signal?: { name: string; args: unknown[] },
  ): { executor: RunExecutor; events: HistoryEvent[] } {
    const start = RunExecutor.prepareStart(started, now, options, signal);
    // The run's code is created and activated in one call into the workflow thread.
    const { run, commands } = options.sandbox.runWith(runInfoOf(start.event), [], [start.activation]);
    return RunExecutor.finishStart(start, run, commands, now);
  }

  /**
   * start() without blocking the host while the workflow thread works: what a start does when
   * other runs' calls are in the thread already (a blocking call would wait behind them).
   */
  static async startAsync(
    started: NewRunStart,
    now: number,
    options: ExecutorOptions,
    signal?: { name: string; args: unknown[] },
  ): Promise<{ executor: RunExecutor; events: HistoryEvent[] }> {
    const start = RunExecutor.prepareStart(started, now, options, signal);
    const { run, commands } = await options.sandbox.runWithAsync(
      runInfoOf(start.event),
      [],
      [start.activation],
    );
    return RunExecutor.finishStart(start, run, commands, now);
  }

  private static prepareStart(
    started: NewRunStart,
    now: number,
    options: ExecutorOptions,
    signal: { name: string; args: unknown[] } | undefined,
  ): {
    executor: RunExecutor;
    event: WorkflowExecutionStarted;
    first: HistoryEvent[];
    activation: Activation;
  } {
    const event: WorkflowExecutionStarted = {
      eventId: 1,
      eventTime: isoTime(now),
      type: 'WorkflowExecutionStarted',
      formatVersion: HISTORY_FORMAT_VERSION,
      ...started,
    };
    const executor = new RunExecutor(event, options, null);
    executor.nextEventId = 2;
    executor.lastEventTime = now;
    const first: HistoryEvent[] = [event];
    const activation = executor.activationFor(event, now, false);
    if (signal) {
      const signaled = executor.stamp(
        { type: 'WorkflowSignaled', signalName: signal.name, args: signal.args, withStart: true },
        now,
      );
      first.push(signaled);
      activation.jobs.push(...jobsFor(signaled, () => 'unknown'));
      activation.historyLength = signaled.eventId;
    }
    return { executor, event, first, activation };
  }

  private static finishStart(
    start: { executor: RunExecutor; event: WorkflowExecutionStarted; first: HistoryEvent[] },
    run: SandboxRun,
    commands: Command[][],
    now: number,
  ): { executor: RunExecutor; events: HistoryEvent[] } {
    const { executor, event, first } = start;
    executor.run = run;
    const recorded = executor.toEvents(commands[0] ?? [], now);
    event.commandCount = recorded.length;
    return { executor, events: [...first, ...recorded] };
  }

  /**
   * Rebuilds a run from its history by replaying the workflow code against it. Returns the events of
   * commands the code issued past the end of the history (to be appended), and throws
   * NonDeterminismError where the code and the history disagree.
   */
  static replay(
    history: HistoryEvent[],
    options: ExecutorOptions,
  ): { executor: RunExecutor; events: HistoryEvent[] } {
    const { first, patchIds, activations } = RunExecutor.planReplay(history, options);
    try {
      const { run, commands } = options.sandbox.runWith(runInfoOf(first), patchIds, activations);
      return RunExecutor.checked(history, options, first, run, commands);
    } catch (error) {
      return RunExecutor.replayStepwise(history, options, first, patchIds, error);
    }
  }

  /** replay(), with the workflow thread working while the host goes on (recovery, waking a run). */
  static async replayAsync(
    history: HistoryEvent[],
    options: ExecutorOptions,
  ): Promise<{ executor: RunExecutor; events: HistoryEvent[] }> {
    const { first, patchIds, activations } = RunExecutor.planReplay(history, options);
    try {
      const { run, commands } = await options.sandbox.runWithAsync(runInfoOf(first), patchIds, activations);
      return RunExecutor.checked(history, options, first, run, commands);
    } catch (error) {
      return RunExecutor.replayStepwise(history, options, first, patchIds, error);
    }
  }

  /**
   * The activations a replay delivers depend on the history alone: they are planned first, then
   * delivered in a few calls into the workflow thread, then the commands are checked.
   */
  private static planReplay(
    history: HistoryEvent[],
    options: ExecutorOptions,
  ): { first: WorkflowExecutionStarted; patchIds: string[]; activations: Activation[] } {
    const first = history[0];
    if (first?.type !== 'WorkflowExecutionStarted') {
      throw new Error('a history must begin with WorkflowExecutionStarted');
    }
    const patchIds = history.flatMap((e) =>
      e.type === 'MarkerRecorded' && e.markerName === 'patch' ? [e.patchId] : [],
    );
    const planner = new RunExecutor(first, options, null);
    const activations: Activation[] = [];
    planner.walk(history, (activation) => {
      activations.push(activation);
      return [];
    });
    return { first, patchIds, activations };
  }

  private static checked(
    history: HistoryEvent[],
    options: ExecutorOptions,
    first: WorkflowExecutionStarted,
    run: SandboxRun,
    commands: Command[][],
  ): { executor: RunExecutor; events: HistoryEvent[] } {
    const executor = new RunExecutor(first, options, run);
    let next = 0;
    return executor.checkReplay(history, () => commands[next++] ?? []);
  }

  /**
   * Replayed commands carry no stacks (their lines are recorded). To say where the code now
   * diverges, replay again one activation at a time, with stacks: it stops where it diverges.
   */
  private static replayStepwise(
    history: HistoryEvent[],
    options: ExecutorOptions,
    first: WorkflowExecutionStarted,
    patchIds: string[],
    error: unknown,
  ): { executor: RunExecutor; events: HistoryEvent[] } {
    if (!(error instanceof NonDeterminismError)) throw error;
    const executor = new RunExecutor(first, options);
    executor.captureStacks = true;
    executor.run.setKnownPatches(patchIds);
    return executor.checkReplay(history, (activation) => executor.run.activate(activation));
  }

  /** Walks the history, checking each activation's commands (from `activate`) against it. */
  private checkReplay(
    history: HistoryEvent[],
    activate: (activation: Activation) => Command[],
  ): { executor: RunExecutor; events: HistoryEvent[] } {
    const { queue, complete } = this.walk(history, activate, true);
    let rest = queue;
    if (complete && this.status === 'RUNNING') {
      // deprecatePatch() asks for no marker in a history recorded before the patch.
      const extra = rest.filter((c) => !(c.type === 'recordPatch' && c.deprecated));
      if (extra[0]) this.divergedAtEnd(complete, extra[0], history.length + 1);
      rest = [];
    }
    const events = this.status === 'RUNNING' ? this.toEvents(rest, this.lastEventTime) : [];
    return { executor: this, events };
  }

  /**
   * Replays the history through this executor: each input event's activation goes to `activate`,
   * and (when `check`) each command event is matched with the commands it returned. Returns the
   * commands past the end of the history, and the last input whose commands are all recorded.
   */
  private walk(
    history: HistoryEvent[],
    activate: (activation: Activation) => Command[],
    check = false,
  ): { queue: Command[]; complete: HistoryEvent | undefined } {
    let queue: Command[] = [];
    /** The last input whose activation's commands are all in the history (it says how many). */
    let complete: HistoryEvent | undefined;
    const replayOne = (event: HistoryEvent, index: number): void => {
      const role = roleOf(event);
      if (event.type === 'WorkflowSignaled' && event.withStart) {
        // Delivered with the start, in the first activation (below).
        this.nextEventId = event.eventId + 1;
        return;
      }
      if (role === 'input') {
        if (check && queue.length > 0) this.diverged(event, queue[0]);
        this.nextEventId = event.eventId + 1;
        const time = Date.parse(event.eventTime);
        this.lastEventTime = time;
        // All of the activation's commands recorded: it is a replay even at the end of the history
        // (patched() answers from the history, logs stay quiet), and it may not issue more.
        const isComplete =
          event.commandCount !== undefined && commandsRecordedAfter(history, index) >= event.commandCount;
        complete = isComplete ? event : undefined;
        const activation = this.activationFor(event, time, isComplete || index < history.length - 1);
        if (event.type === 'WorkflowExecutionStarted') {
          for (let next = index + 1; next < history.length; next++) {
            const signaled = history[next]!;
            if (signaled.type !== 'WorkflowSignaled' || !signaled.withStart) break;
            activation.jobs.push(...jobsFor(signaled, () => 'unknown'));
            activation.historyLength = signaled.eventId;
            activation.isReplaying = isComplete || next < history.length - 1;
          }
        }
        this.track(event);
        queue = activate(activation);
        return;
      }
      if (role === 'command' && check) {
        let command = queue[0];
        if (
          event.type === 'MarkerRecorded' &&
          !(command?.type === 'recordPatch' && command.patchId === event.patchId)
        ) {
          // A patch marker the code no longer asks about (the patch was removed after deprecation).
          this.nextEventId = event.eventId + 1;
          return;
        }
        while (command?.type === 'recordPatch' && command.deprecated && event.type !== 'MarkerRecorded') {
          // deprecatePatch() in code replaying a history recorded before the patch existed.
          queue.shift();
          command = queue[0];
        }
        if (!command || !commandMatches(command, event)) this.diverged(event, command);
        queue.shift();
      }
      this.nextEventId = event.eventId + 1;
      this.lastEventTime = Date.parse(event.eventTime);
      this.track(event);
    };
    for (let index = 0; index < history.length; index++) replayOne(history[index]!, index);
    return { queue, complete };
  }

  /**
   * Records an input event (activity outcome, timer, signal...) and returns it with the commands it
   * caused. With `shareThread`, the workflow thread runs the activation while the host goes on (the
   * caller holds the run's slot, so nothing else records events of this run meanwhile); without, the
   * host waits for it, which is quicker when it has nothing else to do.
   */
  async handle(input: NewEvent, now: number, shareThread = false): Promise<HistoryEvent[]> {
    const event = this.stamp(input, now);
    const activation = this.activationFor(event, now, false);
    this.track(event);
    const commands = shareThread ? await this.run.activateAsync(activation) : this.run.activate(activation);
    const recorded = this.toEvents(commands, now);
    event.commandCount = recorded.length;
    return [event, ...recorded];
  }

  /** Numbers and records events that do not wake the workflow (activity attempts, rejected updates, external closes). */
  record(inputs: NewEvent[], now: number): HistoryEvent[] {
    return inputs.map((input) => {
      const event = this.stamp(input, now);
      this.track(event);
      return event;
    });
  }

  /** The workflow thread that held this run's code was stopped: the run must be rebuilt from its history. */
  get sandboxLost(): boolean {
    return this.run.lost;
  }

  query(name: string, args: unknown[]): QueryOutcome {
    return this.run.query(name, args);
  }

  validateUpdate(id: string, name: string, args: unknown[]): UpdateValidation {
    return this.run.validateUpdate(id, name, args);
  }

  private activationFor(event: HistoryEvent, now: number, isReplaying: boolean): Activation {
    return {
      jobs: jobsFor(event, (seq) => this.activities.get(seq)?.scheduled.activityType ?? 'unknown'),
      now,
      isReplaying,
      historyLength: event.eventId,
      ...(this.captureStacks ? { captureStacks: true } : {}),
    };
  }

  private stamp(input: NewEvent, now: number): HistoryEvent {
    const event = {
      eventId: this.nextEventId,
      eventTime: isoTime(now),
      ...input,
    } as HistoryEvent;
    this.nextEventId += 1;
    this.lastEventTime = now;
    return event;
  }

  private toEvents(commands: Command[], now: number): HistoryEvent[] {
    const events: HistoryEvent[] = [];
    for (const command of commands) {
      if (this.status !== 'RUNNING') break;
      const event = this.stamp(this.eventFor(command, now), now);
      this.track(event);
      events.push(event);
    }
    return events;
  }

  private callSite(command: Command): { callSite?: CallSite } {
    if (!command.stack) return {};
    const site = this.resolveCallSite(command.stack);
    return site ? { callSite: site } : {};
  }

  private eventFor(command: Command, now: number): NewEvent {
    switch (command.type) {
      case 'scheduleActivity':
        return {
          type: 'ActivityTaskScheduled',
          seq: command.seq,
          activityId: String(command.seq),
          activityType: command.activityType,
          args: command.args,
          options: command.options,
          ...this.callSite(command),
        };
      case 'requestCancelActivity':
        return { type: 'ActivityTaskCancelRequested', seq: command.seq };
      case 'startTimer':
        return {
          type: 'TimerStarted',
          seq: command.seq,
          durationMs: command.durationMs,
          fireAt: new Date(now + command.durationMs).toISOString(),
          ...(command.summary === undefined ? {} : { summary: command.summary }),
          ...this.callSite(command),
        };
      case 'cancelTimer':
        return { type: 'TimerCanceled', seq: command.seq };
      case 'startChild':
        return {
          type: 'ChildWorkflowExecutionStarted',
          seq: command.seq,
          workflowType: command.workflowType,
          workflowId: command.workflowId,
          runId: command.runId,
          args: command.args,
          parentClosePolicy: command.parentClosePolicy,
          ...this.callSite(command),
        };
      case 'requestCancelChild':
        return { type: 'ChildWorkflowExecutionCancelRequested', seq: command.seq };
      case 'cancelExternal':
        return {
          type: 'RequestCancelExternalWorkflowExecutionInitiated',
          seq: command.seq,
          workflowId: command.workflowId,
          ...(command.runId === undefined ? {} : { runId: command.runId }),
          ...this.callSite(command),
        };
      case 'signalExternal':
        return {
          type: 'SignalExternalWorkflowExecutionInitiated',
          seq: command.seq,
          workflowId: command.workflowId,
          ...(command.runId === undefined ? {} : { runId: command.runId }),
          signalName: command.signalName,
          args: command.args,
          ...this.callSite(command),
        };
      case 'upsertSearchAttributes':
        return {
          type: 'UpsertWorkflowSearchAttributes',
          searchAttributes: command.searchAttributes,
          ...this.callSite(command),
        };
      case 'recordPatch':
        return {
          type: 'MarkerRecorded',
          markerName: 'patch',
          patchId: command.patchId,
          deprecated: command.deprecated,
          ...this.callSite(command),
        };
      case 'completeUpdate':
        return {
          type: 'WorkflowUpdateCompleted',
          updateId: command.id,
          ...(command.failure ? { failure: command.failure } : { result: command.result }),
        };
      case 'completeWorkflow':
        return { type: 'WorkflowExecutionCompleted', result: command.result };
      case 'failWorkflow':
        return { type: 'WorkflowExecutionFailed', failure: command.failure };
      case 'cancelWorkflow':
        return { type: 'WorkflowExecutionCanceled' };
      case 'continueAsNew':
        return {
          type: 'WorkflowExecutionContinuedAsNew',
          newRunId: randomUUID(),
          workflowType: command.workflowType,
          args: command.args,
        };
      default:
        return command satisfies never;
    }
  }

  private track(event: HistoryEvent): void {
    const time = Date.parse(event.eventTime);
    switch (event.type) {
      case 'WorkflowExecutionStarted':
        this.searchAttributes = event.searchAttributes ?? {};
        return;
      case 'UpsertWorkflowSearchAttributes':
        this.searchAttributes = mergeSearchAttributes(this.searchAttributes, event.searchAttributes);
        return;
      case 'ActivityTaskScheduled':
        this.activities.set(event.seq, { scheduled: event, attempt: 1, cancelRequested: false });
        return;
      case 'ActivityTaskStarted': {
        const pending = this.activities.get(event.seq);
        if (pending) {
          pending.attempt = event.attempt;
          pending.retryAt = undefined;
          if (event.asyncCompletion) pending.asyncCompletion = { startedAt: time };
          else delete pending.asyncCompletion;
        }
        return;
      }
      case 'ActivityTaskFailed':
      case 'ActivityTaskTimedOut': {
        const pending = this.activities.get(event.seq);
        if (!pending) return;
        if (event.nextRetryDelayMs === undefined) {
          this.activities.delete(event.seq);
          return;
        }
        pending.attempt = event.attempt + 1;
        pending.retryAt = time + event.nextRetryDelayMs;
        delete pending.asyncCompletion;
        pending.lastFailure =
          event.type === 'ActivityTaskFailed'
            ? event.failure
            : {
                name: 'TimeoutFailure',
                message: `activity timed out (${event.timeoutType})`,
                timeoutType: event.timeoutType,
              };
        return;
      }
      case 'ActivityTaskCompleted':
      case 'ActivityTaskCanceled':
        this.activities.delete(event.seq);
        return;
      case 'ActivityTaskCancelRequested': {
        const pending = this.activities.get(event.seq);
        if (pending) pending.cancelRequested = true;
        return;
      }
      case 'TimerStarted':
        this.timers.set(event.seq, {
          seq: event.seq,
          fireAt: Date.parse(event.fireAt),
          ...(event.callSite ? { callSite: event.callSite } : {}),
        });
        return;
      case 'TimerFired':
      case 'TimerCanceled':
        this.timers.delete(event.seq);
        return;
      case 'ChildWorkflowExecutionStarted':
        this.children.set(event.seq, {
          seq: event.seq,
          args: event.args,
          workflowType: event.workflowType,
          workflowId: event.workflowId,
          runId: event.runId ?? '',
          parentClosePolicy: event.parentClosePolicy,
        });
        return;
      case 'ChildWorkflowExecutionCompleted':
      case 'ChildWorkflowExecutionFailed':
        this.children.delete(event.seq);
        return;
      case 'ChildWorkflowExecutionCancelRequested': {
        const child = this.children.get(event.seq);
        if (child) child.cancelRequested = true;
        return;
      }
      case 'WorkflowUpdateAccepted':
        this.openUpdates.add(event.updateId);
        this.updateNames.set(event.updateId, event.updateName);
        return;
      case 'WorkflowSignaled':
        if (event.requestId) this.signalRequests.add(event.requestId);
        return;
      case 'SignalExternalWorkflowExecutionInitiated':
        this.externalSignals.set(event.seq, {
          workflowId: event.workflowId,
          ...(event.runId === undefined ? {} : { runId: event.runId }),
          signalName: event.signalName,
          args: event.args,
        });
        return;
      case 'ExternalWorkflowExecutionSignaled':
      case 'SignalExternalWorkflowExecutionFailed':
        this.externalSignals.delete(event.seq);
        return;
      case 'RequestCancelExternalWorkflowExecutionInitiated':
        this.externalCancels.set(event.seq, {
          workflowId: event.workflowId,
          ...(event.runId === undefined ? {} : { runId: event.runId }),
        });
        return;
      case 'ExternalWorkflowExecutionCancelRequested':
      case 'RequestCancelExternalWorkflowExecutionFailed':
        this.externalCancels.delete(event.seq);
        return;
      case 'WorkflowUpdateCompleted':
        this.openUpdates.delete(event.updateId);
        this.completedUpdates.set(
          event.updateId,
          event.failure ? { failure: event.failure } : { result: event.result },
        );
        return;
      default: {
        const closed = statusOfClosingEvent(event.type);
        if (closed) this.status = closed;
      }
    }
  }

  private diverged(event: HistoryEvent, command: Command | undefined): never {
    const issued = command ? { description: describeCommand(command), ...this.siteOf(command) } : undefined;
    const waitingAt = command ? undefined : this.waitingAt();
    const hint = hintFor(event, command);
    throw new NonDeterminismError({
      ...this.identity,
      eventId: event.eventId,
      recorded: event,
      recordedDescription:
        roleOf(event) === 'input'
          ? `${describeEvent(event)} (the workflow was waiting here)`
          : describeEvent(event),
      issued,
      ...(waitingAt ? { waitingAt } : {}),
      hint,
    });
  }

  /**
   * The history ends where the run waits, after an activation that recorded all its commands, and
   * the code now issues one more there: a step added where the open run waits.
   */
  private divergedAtEnd(input: HistoryEvent, command: Command, eventId: number): never {
    const count = input.commandCount ?? 0;
    throw new NonDeterminismError({
      ...this.identity,
      eventId,
      recordedDescription: `nothing more: the run waits here (${describeEvent(input)}, event ${input.eventId}, recorded ${count} command${count === 1 ? '' : 's'})`,
      issued: { description: describeCommand(command), ...this.siteOf(command) },
      hint: 'The code issues a command where the open run waits, after the run recorded everything that point issued: a step was added there. Guard it with `if (patched("my-change")) { ... }` so the waiting run keeps its path (new runs take the new one).',
    });
  }

  /**
   * Where the current code issued `command`: its own call, or for commands no call issues (the
   * workflow returning, an update handler's result), the function that produced it.
   */
  private siteOf(command: Command): { callSite?: CallSite } {
    const own = this.callSite(command);
    if (own.callSite) return own;
    let stack: string | undefined;
    if (command.type === 'failWorkflow') stack = command.failure.stack;
    else if (command.type === 'completeUpdate') {
      stack = this.run.functionStack('update', this.updateNames.get(command.id));
    }
    const site =
      (stack && this.resolveCallSite(stack)) ||
      this.resolveCallSite(this.run.functionStack('workflow') ?? '');
    return site ? { callSite: site } : {};
  }

  /** What the code awaits now, latest first; at least the workflow function when nothing else has a line. */
  private waitingAt(): WaitPoint[] {
    const points: WaitPoint[] = this.run.waitPoints().map((point) => {
      const site = point.stack ? this.resolveCallSite(point.stack) : undefined;
      return site ? { description: point.description, callSite: site } : { description: point.description };
    });
    if (!points.some((p) => p.callSite)) {
      const site = this.resolveCallSite(this.run.functionStack('workflow') ?? '');
      points.push({
        description: `the workflow function ${this.identity.workflowType} (awaiting nothing wf started)`,
        ...(site ? { callSite: site } : {}),
      });
    }
    return points;
  }
}

let lastIsoMs = Number.NaN;
let lastIso = '';

/** `new Date(ms).toISOString()`, kept for the last time asked: the events of one activation share it. */
function isoTime(ms: number): string {
  if (ms !== lastIsoMs) {
    lastIso = new Date(ms).toISOString();
    lastIsoMs = ms;
  }
  return lastIso;
}

function hintFor(event: HistoryEvent, command: Command | undefined): string {
  if (!command) {
    return 'The code no longer issues the recorded command: a step was removed or moved behind a condition. Keep the old path for old runs with `if (patched("my-change")) { new } else { old }`.';
  }
  if (roleOf(event) === 'input') {
    return 'The code issued a command the history does not have: a step was added or moved earlier. Guard new steps with `if (patched("my-change")) { ... }` so runs recorded before the change keep their path.';
  }
  return 'The code issued a different command than the history recorded: steps were reordered, renamed or replaced. Guard the change with `patched("my-change")` so old runs keep their path, or reset runs recorded with the old code.';
}

/** How many command events follow the input at `index`, up to the next input (the start's signals ride with it). */
function commandsRecordedAfter(history: HistoryEvent[], index: number): number {
  let count = 0;
  for (let i = index + 1; i < history.length; i++) {
    const event = history[i]!;
    if (event.type === 'WorkflowSignaled' && event.withStart) continue;
    const role = roleOf(event);
    if (role === 'input') break;
    if (role === 'command') count++;
  }
  return count;
}

function commandMatches(command: Command, event: HistoryEvent): boolean {
  switch (command.type) {
    case 'scheduleActivity':
      return (
        event.type === 'ActivityTaskScheduled' &&
        event.seq === command.seq &&
        event.activityType === command.activityType
      );
    case 'requestCancelActivity':
      return event.type === 'ActivityTaskCancelRequested' && event.seq === command.seq;
    case 'startTimer':
      return event.type === 'TimerStarted' && event.seq === command.seq;
    case 'cancelTimer':
      return event.type === 'TimerCanceled' && event.seq === command.seq;
    case 'startChild':
      return (
        event.type === 'ChildWorkflowExecutionStarted' &&
        event.seq === command.seq &&
        event.workflowType === command.workflowType
      );
    case 'requestCancelChild':
      return event.type === 'ChildWorkflowExecutionCancelRequested' && event.seq === command.seq;
    case 'cancelExternal':
      return (
        event.type === 'RequestCancelExternalWorkflowExecutionInitiated' &&
        event.seq === command.seq &&
        event.workflowId === command.workflowId
      );
    case 'signalExternal':
      return (
        event.type === 'SignalExternalWorkflowExecutionInitiated' &&
        event.seq === command.seq &&
        event.signalName === command.signalName
      );
    case 'recordPatch':
      return event.type === 'MarkerRecorded' && event.patchId === command.patchId;
    case 'upsertSearchAttributes':
      return event.type === 'UpsertWorkflowSearchAttributes';
    case 'completeUpdate':
      return event.type === 'WorkflowUpdateCompleted' && event.updateId === command.id;
    case 'completeWorkflow':
      return event.type === 'WorkflowExecutionCompleted';
    case 'failWorkflow':
      return event.type === 'WorkflowExecutionFailed';
    case 'cancelWorkflow':
      return event.type === 'WorkflowExecutionCanceled';
    case 'continueAsNew':
      return event.type === 'WorkflowExecutionContinuedAsNew';
    default:
      return command satisfies never;
  }
}

function jobsFor(event: HistoryEvent, activityTypeOf: (seq: number) => string): Job[] {
  switch (event.type) {
    case 'WorkflowExecutionStarted':
      return [{ type: 'startWorkflow', args: event.args }];
    case 'ActivityTaskCompleted':
      return [{ type: 'resolveActivity', seq: event.seq, result: event.result }];
    case 'ActivityTaskFailed':
      return [
        {
          type: 'failActivity',
          seq: event.seq,
          failure: activityFailure(activityTypeOf(event.seq), event.failure),
        },
      ];
    case 'ActivityTaskTimedOut':
      return [
        {
          type: 'failActivity',
          seq: event.seq,
          failure: activityFailure(activityTypeOf(event.seq), {
            name: 'TimeoutFailure',
            message: `activity timed out (${event.timeoutType})`,
            timeoutType: event.timeoutType,
            ...(event.lastFailure ? { cause: event.lastFailure } : {}),
          }),
        },
      ];
    case 'TimerFired':
      return [{ type: 'fireTimer', seq: event.seq }];
    case 'WorkflowSignaled':
      return [{ type: 'signal', name: event.signalName, args: event.args }];
    case 'WorkflowUpdateAccepted':
      return [{ type: 'update', id: event.updateId, name: event.updateName, args: event.args }];
    case 'ChildWorkflowExecutionCompleted':
      return [{ type: 'resolveChild', seq: event.seq, result: event.result }];
    case 'ChildWorkflowExecutionFailed':
      return [{ type: 'failChild', seq: event.seq, failure: event.failure }];
    case 'WorkflowExecutionCancelRequested':
      return [{ type: 'cancelWorkflow', ...(event.reason === undefined ? {} : { reason: event.reason }) }];
    case 'ExternalWorkflowExecutionSignaled':
    case 'ExternalWorkflowExecutionCancelRequested':
      return [{ type: 'resolveSignalExternal', seq: event.seq }];
    case 'SignalExternalWorkflowExecutionFailed':
    case 'RequestCancelExternalWorkflowExecutionFailed':
      return [{ type: 'failSignalExternal', seq: event.seq, failure: event.failure }];
    default:
      return [];
  }
}

/** The ActivityFailure a workflow sees, wrapping what the activity's last attempt reported. */
function activityFailure(activityType: string, cause: FailureInfo): FailureInfo {
  return {
    name: 'ActivityFailure',
    message: `activity ${activityType} failed: ${cause.message}`,
    activityType,
    cause,
  };
}

function runInfoOf(started: WorkflowExecutionStarted): RunInfoInput {
  const info: RunInfoInput = {
    workflowId: started.workflowId,
    runId: started.runId,
    workflowType: started.workflowType,
    firstRunId: started.firstRunId,
    attempt: started.attempt,
    randomnessSeed: started.randomnessSeed,
    startTime: Date.parse(started.eventTime),
  };
  if (started.continuedFromRunId) info.continuedFromRunId = started.continuedFromRunId;
  if (started.parent) info.parent = { workflowId: started.parent.workflowId, runId: started.parent.runId };
  if (started.memo) info.memo = started.memo;
  if (started.searchAttributes) info.searchAttributes = started.searchAttributes;
  if (started.runTimeoutMs !== undefined) info.runTimeoutMs = started.runTimeoutMs;
  return info;
}
