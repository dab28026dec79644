import type {
  ActivityOptionsRecord,
  FailureInfo,
  ParentClosePolicy,
  SearchAttributes,
} from '../history/events.js';
import { commandPayloadProblem } from './payload-rules.js';
import type { Command, LogRecord, RunInfoInput } from './protocol.js';

/** What the sandbox needs of the host's AsyncLocalStorage. */
export interface ScopeStorage<T> {
  getStore(): T | undefined;
  run<R>(store: T, fn: () => R): R;
}

/**
 * What a run needs of a cancellation scope. CancellationScope is the one implementation; the run
 * names it by this shape so that cancellation-scope.ts imports this module and not the reverse.
 */
export interface RunScope {
  /** True once cancellation was requested and the scope is cancellable. */
  readonly consideredCancelled: boolean;
  /** Rejects with CancelledFailure when the scope is cancelled. */
  readonly cancelRequested: Promise<never>;
  cancel(): void;
}

/** Host-provided globals of the sandbox context, installed by src/runtime/sandbox.ts. */
interface SandboxGlobals {
  /** One storage per context: a run's continuations only ever run inside that run's activations. */
  __wfScopeStorage?: ScopeStorage<RunScope>;
  __wfHostLog?: (runId: string, record: LogRecord) => void;
}

/**
 * The stack of a call, captured but not yet formatted (an Error): V8 formats it only when `.stack`
 * is read, which a run needs only for new events, divergence reports and `wf describe`.
 */
export interface CapturedStack {
  readonly stack?: string | undefined;
}

/** A command as workflow code issues it: its stack still unformatted (see RunState.push). */
export type IssuedCommand = Command extends infer C
  ? C extends { stack?: string }
    ? Omit<C, 'stack'> & { stack?: CapturedStack | string | undefined }
    : C
  : never;

export interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** Stack of the call that started the wait, for reports of where the code waits. */
  stack?: CapturedStack | undefined;
  /** Order of creation among the run's waits (later waits are likelier where the code is now). */
  since?: number;
  /** What is awaited, for those reports (`signal to "order-2" (seq 1)`). */
  description?: string;
}

export interface PendingActivity extends Pending {
  activityType: string;
}

export interface PendingChild extends Pending {
  workflowType: string;
  workflowId: string;
}

/** A handler as stored: called with the (JSON) arguments the signal, query or update carried. */
export type Handler = (...args: unknown[]) => unknown;

export interface UpdateHandlerEntry {
  handler: Handler;
  validator?: Handler;
}

/**
 * Everything one run's workflow code sees. One instance per run. wf's runtime is evaluated once per
 * context and shared by its runs, so it keeps no run's state at module level: the state of the run
 * being activated is `currentRun()`, set on every call the host makes into the run.
 */
/** A `condition()` waiting for its function to return true. */
interface PendingCondition {
  fn: () => boolean;
  resolve: () => void;
  stack?: CapturedStack | undefined;
  since: number;
}

export class RunState {
  info!: RunInfoInput;
  now = 0;
  isReplaying = false;
  /** Format command stacks while replaying too (the host replays again so to report a divergence). */
  captureStacks = false;
  historyLength = 0;
  completed = false;
  random: () => number = () => 0;
  readonly commands: Command[] = [];
  readonly bufferedSignals: { name: string; args: unknown[] }[] = [];
  /** Handlers of any signal, query or update without one of its own, called with its name first. */
  defaultSignalHandler?: Handler;
  defaultQueryHandler?: Handler;
  defaultUpdateHandler?: Handler;
  readonly scopeStorage: ScopeStorage<RunScope>;
  rootScope!: RunScope;
  fatal?: FailureInfo;
  /** Fails the workflow with what a signal handler threw (wired by the sandbox API). */
  failHandler: (error: unknown) => void = () => undefined;
  /** Signal and update handlers that have started and not yet finished (see allHandlersFinished). */
  runningHandlers = 0;

  // The collections below are made on first use: most runs need few of them, and every start and
  // every cached run pays for each one made.
  private lazy: {
    activities?: Map<number, PendingActivity>;
    timers?: Map<number, Pending>;
    children?: Map<number, PendingChild>;
    externalSignals?: Map<number, Pending>;
    signalHandlers?: Map<string, Handler>;
    queryHandlers?: Map<string, Handler>;
    updateHandlers?: Map<string, UpdateHandlerEntry>;
    conditions?: Set<PendingCondition>;
    knownPatches?: Set<string>;
    patchDecisions?: Map<string, boolean>;
    timeouts?: Map<number, RunScope>;
  } = {};

  get activities(): Map<number, PendingActivity> {
    this.lazy.activities ??= new Map();
    return this.lazy.activities;
  }
  get timers(): Map<number, Pending> {
    this.lazy.timers ??= new Map();
    return this.lazy.timers;
  }
  get children(): Map<number, PendingChild> {
    this.lazy.children ??= new Map();
    return this.lazy.children;
  }
  get externalSignals(): Map<number, Pending> {
    this.lazy.externalSignals ??= new Map();
    return this.lazy.externalSignals;
  }
  get signalHandlers(): Map<string, Handler> {
    this.lazy.signalHandlers ??= new Map();
    return this.lazy.signalHandlers;
  }
  get queryHandlers(): Map<string, Handler> {
    this.lazy.queryHandlers ??= new Map();
    return this.lazy.queryHandlers;
  }
  get updateHandlers(): Map<string, UpdateHandlerEntry> {
    this.lazy.updateHandlers ??= new Map();
    return this.lazy.updateHandlers;
  }
  get conditions(): Set<PendingCondition> {
    this.lazy.conditions ??= new Set();
    return this.lazy.conditions;
  }
  /** Whether any condition() waits (without making the set). */
  get hasConditions(): boolean {
    return (this.lazy.conditions?.size ?? 0) > 0;
  }
  get knownPatches(): Set<string> {
    this.lazy.knownPatches ??= new Set();
    return this.lazy.knownPatches;
  }
  get patchDecisions(): Map<string, boolean> {
    this.lazy.patchDecisions ??= new Map();
    return this.lazy.patchDecisions;
  }
  /** The scopes of timers started by `setTimeout`, by handle (see clearTimeout). */
  get timeouts(): Map<number, RunScope> {
    this.lazy.timeouts ??= new Map();
    return this.lazy.timeouts;
  }

  private seqs = { activity: 0, timer: 0, child: 0, signal: 0, timeout: 0 };
  private attributes: SearchAttributes | undefined;

  /** The run's search attributes now: those given at start, then every upsert. */
  searchAttributes(): SearchAttributes {
    return this.attributes ?? this.info.searchAttributes ?? {};
  }

  setSearchAttributes(attributes: SearchAttributes): void {
    this.attributes = attributes;
  }
  private waits = 0;

  constructor() {
    const storage = (globalThis as SandboxGlobals).__wfScopeStorage;
    if (!storage) throw new Error('wf sandbox: the host did not provide scope storage');
    this.scopeStorage = storage;
  }

  nextSeq(kind: 'activity' | 'timer' | 'child' | 'signal' | 'timeout'): number {
    this.seqs[kind] += 1;
    return this.seqs[kind];
  }

  /** Stamps a wait's creation order (see Pending.since). */
  nextWait(): number {
    this.waits += 1;
    return this.waits;
  }

  currentScope(): RunScope {
    return this.scopeStorage.getStore() ?? this.rootScope;
  }

  /** Queues a command; throws a TypeError (into the workflow code that issued it) if its payload cannot be recorded. */
  push(command: IssuedCommand): void {
    if (this.completed) return;
    const wire = command as { stack?: CapturedStack | string | undefined };
    if (typeof wire.stack === 'object') {
      // A replayed command's line is in its recorded event already (see captureStack).
      if (this.isReplaying && !this.captureStacks) delete wire.stack;
      else wire.stack = wire.stack.stack;
    }
    const problem = commandPayloadProblem(command as Command);
    if (problem) throw new TypeError(problem);
    this.commands.push(command as Command);
  }

  scheduleActivity(
    activityType: string,
    args: unknown[],
    options: ActivityOptionsRecord,
    stack: CapturedStack | undefined,
  ): { seq: number } {
    const seq = this.nextSeq('activity');
    this.push({ type: 'scheduleActivity', seq, activityType, args, options, stack });
    return { seq };
  }

  startChild(
    workflowType: string,
    workflowId: string,
    runId: string,
    args: unknown[],
    parentClosePolicy: ParentClosePolicy,
    stack: CapturedStack | undefined,
  ): number {
    const seq = this.nextSeq('child');
    this.push({ type: 'startChild', seq, workflowType, workflowId, runId, args, parentClosePolicy, stack });
    return seq;
  }

  /** The handler of signal `name`: its own, else the default handler with the name bound. */
  signalHandler(name: string): Handler | undefined {
    return this.signalHandlers.get(name) ?? withName(this.defaultSignalHandler, name);
  }

  queryHandler(name: string): Handler | undefined {
    return this.queryHandlers.get(name) ?? withName(this.defaultQueryHandler, name);
  }

  updateHandler(name: string): UpdateHandlerEntry | undefined {
    const own = this.updateHandlers.get(name);
    if (own) return own;
    const fallback = withName(this.defaultUpdateHandler, name);
    return fallback ? { handler: fallback } : undefined;
  }

  log(record: LogRecord): void {
    if (this.isReplaying) return;
    (globalThis as SandboxGlobals).__wfHostLog?.(this.info.runId, record);
  }
}

function withName(handler: Handler | undefined, name: string): Handler | undefined {
  return handler === undefined ? undefined : (...args: unknown[]) => handler(name, ...args);
}

let state: RunState | undefined;

export function setRunState(next: RunState): void {
  state = next;
}

/** The running workflow's state; throws a clear error when called outside workflow code. */
export function currentRun(api: string): RunState {
  if (!state) {
    throw new Error(
      `${api}() can only be used in workflow code, which wf runs in its sandbox. ` +
        'Call it from a workflow function, not from activities, clients or tests.',
    );
  }
  return state;
}

export function hasRunState(): boolean {
  return state !== undefined;
}

/**
 * The stack of the caller, captured (not formatted) for call-site diagnostics. Not while a run
 * replays (a replayed command's line is recorded in its event, and a divergence is reported from a
 * second replay that captures stacks: capturing here was a quarter of a replay's work), unless
 * `always`: for a stack kept past its activation (a scope's timeout may start its timer later).
 */
export function captureStack(always = false): CapturedStack | undefined {
  if (!always && state?.isReplaying && !state.captureStacks) return undefined;
  // The user's frame is within the first few; capturing more costs time on every command.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 8;
  const stack = new Error();
  Error.stackTraceLimit = limit;
  return stack;
}
