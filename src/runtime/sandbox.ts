import { AsyncLocalStorage, executionAsyncId } from 'node:async_hooks';
import vm from 'node:vm';
import type {
  Activation,
  Command,
  LogRecord,
  QueryOutcome,
  RunInfoInput,
  SandboxRunApi,
  UpdateValidation,
  WaitPointInfo,
} from '../workflow/protocol.js';

/** What the sandbox needs of a bundle (see bundler.ts). */
export interface SandboxBundle {
  code: string;
  filename: string;
}

export interface SandboxOptions {
  /** Receives `log.*` calls from workflow code (never while replaying). */
  log?: (runId: string, record: LogRecord) => void;
  /** An activation that runs longer than this without yielding is reported as a deadlock. Default 5 s. */
  activationTimeoutMs?: number;
}

interface BundleExports {
  workflows: Record<string, unknown>;
  runtime: {
    __wfSandbox: {
      createSandboxRun(workflows: Record<string, unknown>): SandboxRunApi;
      installGlobalOverrides(g: unknown): void;
    };
  };
}

type ContextGlobals = {
  __wfBundleFactory?: (module: { exports: unknown }, exports: unknown) => void;
  __wfActive?: SandboxRunApi;
  __wfArg?: unknown;
  __wfGuarded?: () => unknown;
  __wfScopeStorage?: AsyncLocalStorage<unknown>;
  __wfHostLog?: (runId: string, record: LogRecord) => void;
  __wfActivityRef?: (name: string) => unknown;
};

/** The workflow code ran too long without yielding: an infinite loop or a busy wait. */
export class WorkflowDeadlockError extends Error {
  override name = 'WorkflowDeadlockError';
}

const activateScript = new vm.Script('__wfActive.activate(__wfArg)', { filename: 'wf-activate.js' });
const conditionsScript = new vm.Script('__wfActive.checkConditions()', { filename: 'wf-conditions.js' });
const takeCommandsScript = new vm.Script('JSON.stringify(__wfActive.takeCommands())', {
  filename: 'wf-commands.js',
});
const queryScript = new vm.Script('JSON.stringify(__wfActive.query(__wfArg.name, __wfArg.args))', {
  filename: 'wf-query.js',
});
const validateScript = new vm.Script(
  'JSON.stringify(__wfActive.validateUpdate(__wfArg.id, __wfArg.name, __wfArg.args))',
  {
    filename: 'wf-validate.js',
  },
);
const createRunScript = new vm.Script('__wfCreateRun()', { filename: 'wf-create-run.js' });
const guardScript = new vm.Script('__wfGuarded()', { filename: 'wf-guard.js' });
const instantiateScript = new vm.Script('__wfBundleFactory(__wfArg, __wfArg.exports)', {
  filename: 'wf-instantiate.js',
});

/** How much work one shared watchdog window may cover on top of the activation timeout. */
export const GUARD_WINDOW_MS = 50;

/**
 * One vm context for one bundle, shared by every run of that bundle. Each run gets a fresh module
 * graph from the bundle's factory (so module state is per run) and per-run globals are swapped in by
 * pointing `__wfActive` at the run before each call. Activations run with `microtaskMode:
 * 'afterEvaluate'`, so every promise continuation of a run has settled when the call returns.
 */
export class WorkflowSandbox {
  readonly workflowTypes: string[];
  private readonly context: vm.Context & ContextGlobals;
  private readonly timeout: number;
  private readonly bundle: SandboxBundle;
  private guardDepth = 0;

  private constructor(bundle: SandboxBundle, options: SandboxOptions) {
    this.bundle = bundle;
    this.timeout = options.activationTimeoutMs ?? 5000;
    // Stateless, deterministic web APIs workflow code may use; everything else of the host stays out.
    const webApis = { URL, URLSearchParams, TextEncoder, TextDecoder, atob, btoa, structuredClone };
    const globals: ContextGlobals = { __wfScopeStorage: new AsyncLocalStorage(), ...webApis };
    if (options.log) globals.__wfHostLog = options.log;
    this.context = vm.createContext(globals, {
      name: 'wf-workflows',
      codeGeneration: { strings: false, wasm: false },
      microtaskMode: 'afterEvaluate',
    }) as vm.Context & ContextGlobals;
    new vm.Script(bundle.code, { filename: bundle.filename }).runInContext(this.context);
    if (typeof this.context.__wfBundleFactory !== 'function') {
      throw new Error('the workflow bundle did not define its factory: rebuild it with bundleWorkflows()');
    }
    // Activity imports are evaluated with the module graph, before installGlobalOverrides (which
    // comes from that graph) defines the real reference factory. The bootstrap instance is only read
    // for the runtime and the export names, so placeholders serve it.
    this.context.__wfActivityRef = (name: string) => ({ activityPlaceholder: name });
    const bootstrap = this.instantiate();
    bootstrap.runtime.__wfSandbox.installGlobalOverrides(vm.runInContext('globalThis', this.context));
    this.workflowTypes = Object.entries(bootstrap.workflows)
      .filter(([, value]) => typeof value === 'function')
      .map(([name]) => name);
    new vm.Script(
      `globalThis.__wfCreateRun = function () {
        const m = { exports: {} };
        __wfBundleFactory(m, m.exports);
        return m.exports.runtime.__wfSandbox.createSandboxRun(m.exports.workflows);
      };`,
    ).runInContext(this.context);
  }

  /** Runs the bundle's module code once, under the watchdog: top-level workflow code can loop too. */
  private instantiate(): BundleExports {
    const module = { exports: {} as BundleExports };
    this.context.__wfArg = module;
    this.run(undefined, instantiateScript, module, true);
    return module.exports;
  }

  static create(bundle: SandboxBundle, options: SandboxOptions = {}): WorkflowSandbox {
    return new WorkflowSandbox(bundle, options);
  }

  hasWorkflow(workflowType: string): boolean {
    return this.workflowTypes.includes(workflowType);
  }

  /** A fresh instance of the workflow code for one run. */
  createRun(info: RunInfoInput): SandboxRun {
    const api = this.run(undefined, createRunScript, undefined, true) as SandboxRunApi;
    const run = new SandboxRun(this, api);
    this.enter(api, () => api.init(info));
    return run;
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

  private deadlockOr(error: unknown, asyncIdBefore: number): unknown {
    // Node creates the timeout error in the context's realm: `instanceof Error` is false here.
    if (
      typeof error === 'object' &&
      error !== null &&
      (error as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT'
    ) {
      restoreAsyncContext(asyncIdBefore);
      return new WorkflowDeadlockError(
        `workflow code ran for more than ${this.timeout} ms without awaiting anything: look for an infinite loop or a busy wait`,
      );
    }
    return error;
  }

  /** Runs `fn` with `api` as the active run (for Date, Math.random and logging). */
  enter<T>(api: SandboxRunApi, fn: () => T): T {
    this.context.__wfActive = api;
    return fn();
  }

  /**
   * Runs `fn` (host code that activates runs) under one deadlock watchdog. Node starts a watchdog
   * thread for every call with a timeout, about 0.1 ms each; a batch of activations (a replay, a
   * run's mailbox) shares one instead. Callers keep a window to about GUARD_WINDOW_MS of work, so
   * each activation still gets its full timeout. When the watchdog fires, the host frames inside
   * `fn` are unwound without their finally blocks: callers must discard what `fn` was building.
   */
  guard<T>(fn: () => T): T {
    if (this.guardDepth > 0 || this.timeout <= 0) return fn();
    this.guardDepth++;
    this.context.__wfGuarded = fn;
    const asyncIdBefore = executionAsyncId();
    try {
      return guardScript.runInContext(this.context, { timeout: this.timeout + GUARD_WINDOW_MS }) as T;
    } catch (error) {
      throw this.deadlockOr(error, asyncIdBefore);
    } finally {
      this.guardDepth--;
      this.context.__wfGuarded = undefined;
    }
  }

  /**
   * Runs a precompiled script for `api`. `guarded` scripts run user code and get the deadlock
   * timeout, unless they run inside `guard()`; bookkeeping scripts run without one.
   */
  run(api: SandboxRunApi | undefined, script: vm.Script, arg?: unknown, guarded = false): unknown {
    this.context.__wfActive = api;
    this.context.__wfArg = arg;
    const watched = guarded && this.timeout > 0 && this.guardDepth === 0;
    const asyncIdBefore = watched ? executionAsyncId() : 0;
    try {
      return watched
        ? script.runInContext(this.context, { timeout: this.timeout })
        : script.runInContext(this.context);
    } catch (error) {
      throw watched ? this.deadlockOr(error, asyncIdBefore) : error;
    } finally {
      this.context.__wfArg = undefined;
    }
  }
}

/** One run's instance of the workflow code. All calls are synchronous. */
export class SandboxRun {
  constructor(
    private readonly sandbox: WorkflowSandbox,
    private readonly api: SandboxRunApi,
  ) {}

  /** Delivers one activation and returns the commands the workflow issued in response. */
  activate(activation: Activation): Command[] {
    this.sandbox.run(this.api, activateScript, JSON.stringify(activation), true);
    for (let i = 0; i < 10_000; i++) {
      if (!this.sandbox.run(this.api, conditionsScript, undefined, true)) break;
    }
    return JSON.parse(this.sandbox.run(this.api, takeCommandsScript) as string) as Command[];
  }

  query(name: string, args: unknown[]): QueryOutcome {
    return JSON.parse(
      this.sandbox.run(this.api, queryScript, { name, args: clone(args) }, true) as string,
    ) as QueryOutcome;
  }

  validateUpdate(id: string, name: string, args: unknown[]): UpdateValidation {
    return JSON.parse(
      this.sandbox.run(this.api, validateScript, { id, name, args: clone(args) }, true) as string,
    ) as UpdateValidation;
  }

  /** What the workflow awaits now (latest first), with the stacks that started each wait. */
  waitPoints(): WaitPointInfo[] {
    return clone(this.sandbox.enter(this.api, () => this.api.waitPoints()));
  }

  /** A stack whose one frame is where the workflow function (or an update handler) is defined. */
  functionStack(kind: 'workflow' | 'update', name?: string): string | undefined {
    const source = this.sandbox.enter(this.api, () => this.api.functionSource(kind, name));
    return source === undefined ? undefined : this.sandbox.frameOf(name ?? kind, source);
  }

  setKnownPatches(patchIds: string[]): void {
    this.sandbox.enter(this.api, () => this.api.setKnownPatches(patchIds));
  }
}

/**
 * A vm timeout that stops workflow code inside a microtask leaves the async context that the
 * promise hooks (AsyncLocalStorage) entered for it on Node's async-id stack; the next callback
 * scope then aborts the whole process (nodejs/node#38503). Pop what the terminated code left.
 */
function restoreAsyncContext(asyncIdBefore: number): void {
  if (executionAsyncId() === asyncIdBefore) return;
  const noDeprecation = process.noDeprecation;
  process.noDeprecation = true; // process.binding is deprecated (DEP0111); it is the only way to repair the stack on Node 20.
  const binding = (
    process as unknown as { binding(name: string): { popAsyncContext(id: number): boolean } }
  ).binding('async_wrap');
  process.noDeprecation = noDeprecation;
  for (let i = 0; i < 10_000 && executionAsyncId() !== asyncIdBefore; i++) {
    binding.popAsyncContext(executionAsyncId());
  }
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

let rejectionFilterInstalled = false;

/**
 * Promises of a vm context that reject unhandled reach the host's process-wide hook. Those belong to
 * workflow code (and its own error handling), not to the host, so they are not allowed to crash it.
 */
export function installSandboxRejectionFilter(): void {
  if (rejectionFilterInstalled) return;
  rejectionFilterInstalled = true;
  process.on('unhandledRejection', (reason, promise) => {
    if (!(promise instanceof Promise)) return;
    if (process.listenerCount('unhandledRejection') > 1) return;
    throw reason;
  });
}
