import type {
  Activation,
  Command,
  LogRecord,
  QueryOutcome,
  RunInfoInput,
  UpdateValidation,
  WaitPointInfo,
} from '../workflow/protocol.js';
import { WorkflowThreadStoppedError, workflowThread } from './sandbox-thread.js';
import type { WorkerReply, WorkerRequest } from './sandbox-worker.js';

export { WorkflowDeadlockError } from './sandbox-thread.js';

/** What the sandbox needs of a bundle (see bundler.ts). */
export interface SandboxBundle {
  code: string;
  filename: string;
  runtime: { code: string; filename: string };
}

export interface SandboxOptions {
  /** Receives `log.*` calls from workflow code (never while replaying). */
  log?: (runId: string, record: LogRecord) => void;
  /** An activation that runs longer than this without yielding is reported as a deadlock. Default 5 s. */
  activationTimeoutMs?: number;
}

/** Activations per call of a replay: each call stays well within the deadlock timeout. */
const REPLAY_CHUNK = 500;

/**
 * One bundle's vm context in the workflow thread (sandbox-worker.ts), shared by every run of that
 * bundle. Each run gets a fresh module graph from the bundle's factory (so module state is per run);
 * activations run with `microtaskMode: 'afterEvaluate'`, so every promise continuation of a run has
 * settled when the call returns. Every call is synchronous and carries the deadlock timeout: a call
 * that overruns it stops the thread, and the runs it held are rebuilt from their histories.
 */
export class WorkflowSandbox {
  readonly workflowTypes: string[];
  private readonly timeout: number;
  private readonly bundle: SandboxBundle;
  private readonly log: SandboxOptions['log'];
  private readonly thread = workflowThread();
  private id = 0;
  private generation = -1;

  private constructor(bundle: SandboxBundle, options: SandboxOptions) {
    this.bundle = bundle;
    this.timeout = options.activationTimeoutMs ?? 5000;
    this.log = options.log;
    this.workflowTypes = this.open();
  }

  static create(bundle: SandboxBundle, options: SandboxOptions = {}): WorkflowSandbox {
    return new WorkflowSandbox(bundle, options);
  }

  /** Evaluates the bundle in a new context of the current thread; returns the workflow types it exports. */
  private open(): string[] {
    this.id = this.thread.newId();
    this.generation = this.thread.generation;
    const types = this.call({
      op: 'create',
      sid: this.id,
      code: this.bundle.code,
      filename: this.bundle.filename,
      runtimeCode: this.bundle.runtime.code,
      runtimeFilename: this.bundle.runtime.filename,
    }) as string[];
    this.thread.trackContext(this, this.id);
    return types;
  }

  /** Whether calls that do not block the host are in the workflow thread now. */
  get busy(): boolean {
    return this.thread.busy;
  }

  hasWorkflow(workflowType: string): boolean {
    return this.workflowTypes.includes(workflowType);
  }

  /** A fresh instance of the workflow code for one run. */
  createRun(info: RunInfoInput): SandboxRun {
    const run = this.newRun();
    this.call({ op: 'createRun', sid: this.id, rid: run.id, info });
    return run;
  }

  /**
   * A fresh run fed `activations` (a start's first, or a whole replay's), a chunk per call into the
   * workflow thread (not one call each); returns the run and each activation's commands.
   */
  runWith(
    info: RunInfoInput,
    patchIds: string[],
    activations: Activation[],
  ): { run: SandboxRun; commands: Command[][] } {
    const run = this.newRun();
    const commands: Command[][] = [];
    for (const request of this.activationCalls(run, info, patchIds, activations)) {
      for (const reply of this.call(request) as string[]) commands.push(JSON.parse(reply) as Command[]);
    }
    return { run, commands };
  }

  /**
   * runWith() without blocking the host: the thread works while the host goes on. A thread stopped
   * meanwhile by another run's deadlock is no fault of this run: it is made again, once.
   */
  async runWithAsync(
    info: RunInfoInput,
    patchIds: string[],
    activations: Activation[],
  ): Promise<{ run: SandboxRun; commands: Command[][] }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const run = this.newRun();
        const commands: Command[][] = [];
        for (const request of this.activationCalls(run, info, patchIds, activations)) {
          const replies = (await this.callAsync(request)) as string[];
          for (const reply of replies) commands.push(JSON.parse(reply) as Command[]);
        }
        return { run, commands };
      } catch (error) {
        if (!(error instanceof WorkflowThreadStoppedError) || attempt >= 2) throw error;
      }
    }
  }

  private newRun(): SandboxRun {
    if (this.generation !== this.thread.generation) this.open();
    const id = this.thread.newId();
    const run = new SandboxRun(this, id, this.thread.generation);
    this.thread.trackRun(run, id);
    return run;
  }

  /** The calls that create `run` and deliver `activations` to it, REPLAY_CHUNK at a time. */
  private *activationCalls(
    run: SandboxRun,
    info: RunInfoInput,
    patchIds: string[],
    activations: Activation[],
  ): Generator<WorkerRequest> {
    let offset = 0;
    do {
      yield {
        op: 'activateMany',
        rid: run.id,
        ...(offset === 0 ? { create: { sid: this.id, info, patchIds } } : {}),
        activations: activations.slice(offset, offset + REPLAY_CHUNK).map((a) => JSON.stringify(a)),
      };
      offset += REPLAY_CHUNK;
    } while (offset < activations.length);
  }

  /** Whether runs created in `generation` still exist (a deadlock restarts the thread without them). */
  isCurrent(generation: number): boolean {
    return generation === this.thread.generation;
  }

  /**
   * A one-frame stack pointing at where `source` (a function's text, as V8 gives it) begins in the
   * bundle, for call-site resolution through the bundle's source map; undefined if not found.
   */
  frameOf(name: string, source: string): string | undefined {
    const offset = this.bundle.code.indexOf(source);
    if (offset < 0) return undefined;
    const before = this.bundle.code.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    return `Error\n    at ${name} (${this.bundle.filename}:${line}:${column})`;
  }

  /** One call into the thread: its logs delivered, its error rethrown here. */
  call(request: WorkerRequest): unknown {
    return this.unwrap(this.thread.call(request, this.timeout));
  }

  async callAsync(request: WorkerRequest): Promise<unknown> {
    return this.unwrap(await this.thread.callAsync(request, this.timeout));
  }

  private unwrap(reply: WorkerReply): unknown {
    if (reply.logs && this.log) {
      for (const { runId, record } of reply.logs) this.log(runId, record as LogRecord);
    }
    if (!reply.ok) throw remoteError(reply.error);
    return reply.value;
  }
}

/** A run's instance of the workflow code, in the workflow thread. All calls are synchronous. */
export class SandboxRun {
  constructor(
    private readonly sandbox: WorkflowSandbox,
    readonly id: number,
    private readonly generation: number,
  ) {}

  /** The thread that held this run was stopped (another run deadlocked): rebuild it from its history. */
  get lost(): boolean {
    return !this.sandbox.isCurrent(this.generation);
  }

  /** Delivers one activation and returns the commands the workflow issued in response. */
  activate(activation: Activation): Command[] {
    const commands = this.call({ op: 'activate', rid: this.id, activation: JSON.stringify(activation) });
    return JSON.parse(commands as string) as Command[];
  }

  /** activate() without blocking the host: the thread works while the host goes on. */
  async activateAsync(activation: Activation): Promise<Command[]> {
    this.checkHeld();
    const commands = await this.sandbox.callAsync({
      op: 'activate',
      rid: this.id,
      activation: JSON.stringify(activation),
    });
    return JSON.parse(commands as string) as Command[];
  }

  query(name: string, args: unknown[]): QueryOutcome {
    return JSON.parse(this.call({ op: 'query', rid: this.id, name, args }) as string) as QueryOutcome;
  }

  validateUpdate(id: string, name: string, args: unknown[]): UpdateValidation {
    const validation = this.call({ op: 'validateUpdate', rid: this.id, id, name, args });
    return JSON.parse(validation as string) as UpdateValidation;
  }

  /** What the workflow awaits now (latest first), with the stacks that started each wait. */
  waitPoints(): WaitPointInfo[] {
    return JSON.parse(this.call({ op: 'waitPoints', rid: this.id }) as string) as WaitPointInfo[];
  }

  /** A stack whose one frame is where the workflow function (or an update handler) is defined. */
  functionStack(kind: 'workflow' | 'update', name?: string): string | undefined {
    const source = this.call({ op: 'functionSource', rid: this.id, kind, name }) as string | undefined;
    return source === undefined ? undefined : this.sandbox.frameOf(name ?? kind, source);
  }

  setKnownPatches(patchIds: string[]): void {
    this.call({ op: 'setKnownPatches', rid: this.id, patchIds });
  }

  private call(request: WorkerRequest): unknown {
    this.checkHeld();
    return this.sandbox.call(request);
  }

  /** A run of a stopped thread is gone: its callers rebuild it from its history (and try again). */
  private checkHeld(): void {
    if (this.lost) {
      throw new WorkflowThreadStoppedError(
        'this run was held by a workflow thread that was stopped; it must be rebuilt from its history',
      );
    }
  }
}

/** An error thrown in the workflow thread, with its name, message and stack as they were there. */
function remoteError(error: WorkerReply['error']): Error {
  const rebuilt = new Error(error?.message ?? 'the workflow thread failed');
  if (error?.name) rebuilt.name = error.name;
  if (error?.stack) rebuilt.stack = error.stack;
  return rebuilt;
}
