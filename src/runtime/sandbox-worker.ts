/**
 * The workflow thread: a worker that holds every vm context and every run's instance of the
 * workflow code, and answers the host's synchronous calls (sandbox-thread.ts). Workflow code never
 * runs on the host's thread, so the host can stop a deadlocked activation by terminating this
 * thread instead of paying Node's per-call vm watchdog thread.
 *
 * `workerMain` is shipped to the worker as its source text (`new Worker(source, { eval: true })`),
 * the same from src/ under the test runner and from dist/: it must not refer to anything outside
 * itself but Node's built-in modules, loaded with `require` (an eval worker is CommonJS). A
 * compiler that keeps function names (tsx, esbuild's keepNames) wraps them in `__name()`: the
 * source defines it.
 */
export function sandboxWorkerSource(): string {
  return `var __name = (fn) => fn;\n(${workerMain.toString()})();`;
}

/** Messages the host sends: one per call, answered by one reply. */
export type WorkerRequest =
  | {
      op: 'create';
      sid: number;
      code: string;
      filename: string;
      runtimeCode: string;
      runtimeFilename: string;
    }
  | { op: 'createRun'; sid: number; rid: number; info: unknown }
  | { op: 'activate'; rid: number; activation: string }
  | {
      op: 'activateMany';
      rid: number;
      /** Creates the run first (in context `sid`), with the patch IDs its history records. */
      create?: { sid: number; info: unknown; patchIds: string[] };
      activations: string[];
    }
  | { op: 'query'; rid: number; name: string; args: unknown[] }
  | { op: 'validateUpdate'; rid: number; id: string; name: string; args: unknown[] }
  | { op: 'waitPoints'; rid: number }
  | { op: 'functionSource'; rid: number; kind: 'workflow' | 'update'; name?: string | undefined }
  | { op: 'setKnownPatches'; rid: number; patchIds: string[] }
  | { op: 'heapUsed' };

export interface WorkerEnvelope {
  request: WorkerRequest;
  /** Runs and contexts the host no longer references: the worker forgets them first. */
  freeRuns?: number[];
  freeContexts?: number[];
}

export interface WorkerReply {
  ok: boolean;
  value?: unknown;
  error?: { name: string; message: string; stack?: string };
  /** `log.*` records of workflow code during the call, in order, each with its run ID. */
  logs?: { runId: string; record: unknown }[];
}

/** Values of the state word shared with the host (index 0). */
export const STATE_IDLE = 0;
export const STATE_REQUEST = 1;
export const STATE_REPLY = 2;
/** Index of the flag the workflow thread sets while it sleeps in Atomics.wait (1) rather than spins (0). */
export const WORKER_ASLEEP = 1;
/** Index of the flag the host sets when the machine has a core to spare for spinning (1) or not (0). */
export const SPIN_ALLOWED = 2;
/** Index of the count of calls the host has posted on the asynchronous port. */
export const ASYNC_POSTED = 3;
/** Index of the doorbell: the host adds one after posting any call, and the sleeping thread waits on it. */
export const DOORBELL = 4;
export const STATE_WORDS = 5;

/** A call on the asynchronous port, and its answer. */
export interface AsyncEnvelope {
  id: number;
  envelope: WorkerEnvelope;
}
export interface AsyncReply {
  id: number;
  reply: WorkerReply;
}

function workerMain(): void {
  const REQUEST = 1;
  const REPLY = 2;
  const WORKER_ASLEEP = 1;
  const SPIN_ALLOWED = 2;
  const ASYNC_POSTED = 3;
  const DOORBELL = 4;
  /**
   * How long the thread spins for the host's next call before it sleeps: waking a sleeping thread
   * takes 30 µs to several hundred on a virtual machine, while a long spin on a busy machine holds a
   * core the host needs (see sandbox-thread.ts).
   */
  const SPIN_MS = 0.3;
  const vm = require('node:vm') as typeof import('node:vm');
  const { AsyncLocalStorage } = require('node:async_hooks') as typeof import('node:async_hooks');
  const threads = require('node:worker_threads') as typeof import('node:worker_threads');
  const {
    state: sharedState,
    port,
    asyncPort,
  } = threads.workerData as {
    state: SharedArrayBuffer;
    port: import('node:worker_threads').MessagePort;
    asyncPort: import('node:worker_threads').MessagePort;
  };
  let asyncServed = 0;
  const state = new Int32Array(sharedState);

  // Promises of workflow code that reject unhandled are the workflow's own business.
  process.on('unhandledRejection', () => {});

  type Api = Record<string, (...args: unknown[]) => unknown>;
  type Globals = Record<string, unknown>;
  interface Sandbox {
    context: import('node:vm').Context & Globals;
  }
  const sandboxes = new Map<number, Sandbox>();
  const runs = new Map<number, { sandbox: Sandbox; api: Api }>();
  let logs: { runId: string; record: unknown }[] = [];

  const script = (code: string, filename: string) => new vm.Script(code, { filename });
  const activateScript = script('__wfActive.activate(__wfArg)', 'wf-activate.js');
  const settleScript = script(
    '__wfActive.checkConditions() ? null : JSON.stringify(__wfActive.takeCommands())',
    'wf-settle.js',
  );
  const takeCommandsScript = script('JSON.stringify(__wfActive.takeCommands())', 'wf-commands.js');
  const queryScript = script('JSON.stringify(__wfActive.query(__wfArg.name, __wfArg.args))', 'wf-query.js');
  const validateScript = script(
    'JSON.stringify(__wfActive.validateUpdate(__wfArg.id, __wfArg.name, __wfArg.args))',
    'wf-validate.js',
  );
  const createRunScript = script('__wfCreateRun()', 'wf-create-run.js');
  // wf's runtime once per context; each run's instance of the user's modules requires it.
  const instantiateRuntime = script(
    `globalThis.__wfRuntime = (() => {
      const m = { exports: {} };
      __wfRuntimeFactory(m, m.exports);
      return m.exports;
    })();
    globalThis.__wfRequire = (id) => {
      if (id === 'wfkit/workflow') return __wfRuntime;
      throw new Error('wf bug: the workflow bundle requires ' + id + ', which the sandbox does not provide');
    };`,
    'wf-instantiate-runtime.js',
  );
  const instantiateScript = script(
    '__wfBundleFactory(__wfArg, __wfArg.exports, __wfRequire)',
    'wf-instantiate.js',
  );
  const defineCreateRun = script(
    `globalThis.__wfCreateRun = function () {
      const m = { exports: {} };
      __wfBundleFactory(m, m.exports, __wfRequire);
      return __wfRuntime.__wfSandbox.createSandboxRun(m.exports.workflows);
    };`,
    'wf-define-create-run.js',
  );

  function inContext(
    sandbox: Sandbox,
    api: Api | undefined,
    s: import('node:vm').Script,
    arg?: unknown,
  ): unknown {
    sandbox.context.__wfActive = api;
    sandbox.context.__wfArg = arg;
    try {
      return s.runInContext(sandbox.context);
    } finally {
      sandbox.context.__wfArg = undefined;
    }
  }

  function create(request: Extract<WorkerRequest, { op: 'create' }>): string[] {
    // Stateless, deterministic web APIs workflow code may use; everything else of Node stays out.
    const globals: Globals = {
      __wfScopeStorage: new AsyncLocalStorage(),
      __wfHostLog: (runId: string, record: unknown) => logs.push({ runId, record }),
      URL,
      URLSearchParams,
      TextEncoder,
      TextDecoder,
      atob,
      btoa,
      structuredClone,
    };
    const context = vm.createContext(globals, {
      name: 'wf-workflows',
      codeGeneration: { strings: false, wasm: false },
      microtaskMode: 'afterEvaluate',
    }) as import('node:vm').Context & Globals;
    script(request.runtimeCode, request.runtimeFilename).runInContext(context);
    script(request.code, request.filename).runInContext(context);
    if (typeof context.__wfBundleFactory !== 'function' || typeof context.__wfRuntimeFactory !== 'function') {
      throw new Error('the workflow bundle did not define its factory: rebuild it with bundleWorkflows()');
    }
    const sandbox: Sandbox = { context };
    instantiateRuntime.runInContext(context);
    const runtime = context.__wfRuntime as { __wfSandbox: { installGlobalOverrides(g: unknown): void } };
    runtime.__wfSandbox.installGlobalOverrides(vm.runInContext('globalThis', context));
    // The user's module code runs here once, for the export names (top-level code may loop too).
    const module = { exports: {} as Globals };
    inContext(sandbox, undefined, instantiateScript, module);
    const bootstrap = module.exports as { workflows: Record<string, unknown> };
    defineCreateRun.runInContext(context);
    sandboxes.set(request.sid, sandbox);
    return Object.entries(bootstrap.workflows)
      .filter(([, value]) => typeof value === 'function')
      .map(([name]) => name);
  }

  function runOf(rid: number): { sandbox: Sandbox; api: Api } {
    const run = runs.get(rid);
    if (!run) throw new Error(`wf bug: the workflow thread has no run #${rid}`);
    return run;
  }

  /** Calls one of the run's api methods with the run active (for Date, Math.random and logging). */
  function enter(rid: number, method: string, ...args: unknown[]): unknown {
    const { sandbox, api } = runOf(rid);
    sandbox.context.__wfActive = api;
    return api[method]!(...args);
  }

  /** One activation: its jobs, then conditions until none resolves; returns the commands (JSON). */
  function activate(rid: number, activation: string): unknown {
    const { sandbox, api } = runOf(rid);
    inContext(sandbox, api, activateScript, activation);
    // Conditions that became true resolve, their continuations run when the script ends, and so on
    // until none does; then the same script returns the commands.
    for (let i = 0; i < 10_000; i++) {
      const commands = inContext(sandbox, api, settleScript);
      if (commands !== null) return commands;
    }
    return inContext(sandbox, api, takeCommandsScript);
  }

  function handle(request: WorkerRequest): unknown {
    switch (request.op) {
      case 'create':
        return create(request);
      case 'createRun': {
        const sandbox = sandboxes.get(request.sid);
        if (!sandbox) throw new Error(`wf bug: the workflow thread has no context #${request.sid}`);
        const api = inContext(sandbox, undefined, createRunScript) as Api;
        runs.set(request.rid, { sandbox, api });
        enter(request.rid, 'init', request.info);
        return undefined;
      }
      case 'activate':
        return activate(request.rid, request.activation);
      case 'activateMany': {
        if (request.create) {
          handle({ op: 'createRun', sid: request.create.sid, rid: request.rid, info: request.create.info });
          enter(request.rid, 'setKnownPatches', request.create.patchIds);
        }
        return request.activations.map((activation) => activate(request.rid, activation));
      }
      case 'query': {
        const { sandbox, api } = runOf(request.rid);
        return inContext(sandbox, api, queryScript, { name: request.name, args: request.args });
      }
      case 'validateUpdate': {
        const { sandbox, api } = runOf(request.rid);
        return inContext(sandbox, api, validateScript, {
          id: request.id,
          name: request.name,
          args: request.args,
        });
      }
      case 'waitPoints':
        return JSON.stringify(enter(request.rid, 'waitPoints'));
      case 'functionSource':
        return enter(request.rid, 'functionSource', request.kind, request.name);
      case 'setKnownPatches':
        return enter(request.rid, 'setKnownPatches', request.patchIds);
      case 'heapUsed': {
        (globalThis as { gc?: () => void }).gc?.();
        return process.memoryUsage().heapUsed;
      }
    }
  }

  function answer(envelope: WorkerEnvelope): WorkerReply {
    for (const rid of envelope.freeRuns ?? []) runs.delete(rid);
    for (const sid of envelope.freeContexts ?? []) sandboxes.delete(sid);
    logs = [];
    try {
      const value = handle(envelope.request);
      return logs.length > 0 ? { ok: true, value, logs } : { ok: true, value };
    } catch (error) {
      const e = error as { name?: unknown; message?: unknown; stack?: unknown };
      const failure = {
        name: typeof e?.name === 'string' ? e.name : 'Error',
        message: typeof e?.message === 'string' ? e.message : String(error),
        ...(typeof e?.stack === 'string' ? { stack: e.stack } : {}),
      };
      return logs.length > 0 ? { ok: false, error: failure, logs } : { ok: false, error: failure };
    }
  }

  // Spins are counted, not timed: a clock read in the loop slows the other thread's wake-up.
  let fastest = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    for (let i = 0; i < 100_000; i++) Atomics.load(state, 0);
    fastest = Math.min(fastest, performance.now() - start);
  }
  const spinLimit = Math.round((100_000 / Math.max(fastest, 0.01)) * SPIN_MS);

  /** Answers the calls posted on the asynchronous port (their answers go back on it). */
  /** Answers one call posted on the asynchronous port (a synchronous call waiting goes next). */
  function serveAsync(): void {
    const message = threads.receiveMessageOnPort(asyncPort);
    if (!message) return;
    asyncServed++;
    const { id, envelope } = message.message as AsyncEnvelope;
    asyncPort.postMessage({ id, reply: answer(envelope) } satisfies AsyncReply);
  }

  function serveWhileBusy(): void {
    for (;;) {
      let spins = 0;
      while (Atomics.load(state, 0) !== REQUEST) {
        if (Atomics.load(state, ASYNC_POSTED) !== asyncServed) {
          serveAsync();
          spins = 0;
          continue;
        }
        if (++spins > spinLimit || Atomics.load(state, SPIN_ALLOWED) === 0) return;
      }
      const message = threads.receiveMessageOnPort(port);
      const reply: WorkerReply = message
        ? answer(message.message as WorkerEnvelope)
        : {
            ok: false,
            error: {
              name: 'Error',
              message: 'wf bug: a call reached the workflow thread without its message',
            },
          };
      port.postMessage(reply);
      Atomics.store(state, 0, REPLY);
      Atomics.notify(state, 0);
    }
  }

  /** Serves calls; sleeps between them, returning to the event loop after a second of quiet. */
  function loop(): void {
    for (;;) {
      // The doorbell is read before looking for work, so a call posted after the look is not missed.
      const bell = Atomics.load(state, DOORBELL);
      serveWhileBusy();
      if (Atomics.load(state, 0) === REQUEST || Atomics.load(state, ASYNC_POSTED) !== asyncServed) continue;
      Atomics.store(state, WORKER_ASLEEP, 1);
      const waited = Atomics.wait(state, DOORBELL, bell, 1000);
      Atomics.store(state, WORKER_ASLEEP, 0);
      if (waited === 'timed-out') {
        setImmediate(loop);
        return;
      }
    }
  }
  loop();
}
