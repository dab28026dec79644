import { CancellationScope } from './cancellation-scope.js';
import { startTimer } from './durable-timer.js';
import { errorToFailure, failureToError, isCancellation } from './failures.js';
import { deliverSignal } from './handlers.js';
import { commandPayloadProblem } from './payload-rules.js';
import type {
  Activation,
  Command,
  Job,
  QueryOutcome,
  RunInfoInput,
  SandboxRunApi,
  UpdateValidation,
  WaitPointInfo,
} from './protocol.js';
import { seededRandom } from './random.js';
import { type CapturedStack, captureStack, RunState, setRunState } from './run-state.js';
import { ContinueAsNew } from './workflow-info.js';

type WorkflowModule = Record<string, unknown>;

/**
 * Creates the API the host drives one run through, over the run's own instance of the workflow
 * modules (`workflows`). wf's runtime is shared by the runs of a context: every call makes this run
 * the current one first.
 */
export function createSandboxRun(workflows: WorkflowModule): SandboxRunApi {
  const run = new RunState();
  setRunState(run);
  run.rootScope = new CancellationScope({ cancellable: true });

  const fail = (error: unknown) => finishWithError(run, error);
  run.failHandler = fail;

  return activeOnEveryCall(run, {
    init(info: RunInfoInput) {
      run.info = info;
      run.now = info.startTime;
      run.random = seededRandom(info.randomnessSeed);
    },
    activate(input: Activation | string) {
      const activation: Activation = typeof input === 'string' ? JSON.parse(input) : input;
      run.now = activation.now;
      run.isReplaying = activation.isReplaying;
      run.captureStacks = activation.captureStacks === true;
      run.historyLength = activation.historyLength;
      // A signal delivered with the start (signal-with-start) finds no handler yet: it is buffered
      // here, and the workflow function, called a tick later, gets it from setHandler, before its
      // first await resumes (Temporal's order).
      for (const job of activation.jobs) {
        try {
          applyJob(run, workflows, job);
        } catch (error) {
          fail(error);
        }
      }
    },
    checkConditions() {
      if (!run.hasConditions) return false;
      let any = false;
      for (const entry of [...run.conditions]) {
        let ready = false;
        try {
          ready = entry.fn();
        } catch (error) {
          run.conditions.delete(entry);
          fail(error);
          continue;
        }
        if (ready) {
          run.conditions.delete(entry);
          entry.resolve();
          any = true;
        }
      }
      return any;
    },
    takeCommands(): Command[] {
      return run.commands.splice(0, run.commands.length);
    },
    query(name: string, args: unknown[]): QueryOutcome {
      const handler = run.queryHandler(name);
      if (!handler) {
        const known = [...run.queryHandlers.keys()];
        return {
          ok: false,
          failure: {
            name: 'QueryNotRegistered',
            message: `workflow ${run.info.workflowType} has no query handler for ${JSON.stringify(name)}${
              known.length ? `; it handles ${known.map((k) => JSON.stringify(k)).join(', ')}` : ''
            }`,
          },
        };
      }
      try {
        const result = withOwnRandomness(run, `query@${run.historyLength}`, () => handler(...args));
        if (result && typeof (result as Promise<unknown>).then === 'function') {
          return {
            ok: false,
            failure: {
              name: 'QueryFailed',
              message: `query handler ${name} returned a promise: queries must be synchronous`,
            },
          };
        }
        // undefined stays undefined (JSON has none: the field is left out, as in histories).
        return { ok: true, result: result === undefined ? undefined : JSON.parse(JSON.stringify(result)) };
      } catch (error) {
        return { ok: false, failure: errorToFailure(error) };
      }
    },
    validateUpdate(id: string, name: string, args: unknown[]): UpdateValidation {
      const entry = run.updateHandler(name);
      if (!entry) {
        return {
          accepted: false,
          failure: {
            name: 'UpdateNotRegistered',
            message: `workflow ${run.info.workflowType} has no update handler for ${JSON.stringify(name)}`,
          },
        };
      }
      if (!entry.validator) return { accepted: true };
      try {
        withOwnRandomness(run, `validate@${id}`, () => entry.validator?.(...args));
        return { accepted: true };
      } catch (error) {
        return { accepted: false, failure: errorToFailure(error) };
      }
    },
    setKnownPatches(patchIds: string[]) {
      for (const id of patchIds) run.knownPatches.add(id);
    },
    waitPoints(): WaitPointInfo[] {
      return waitPointsOf(run);
    },
    functionSource(kind: 'workflow' | 'update', name?: string) {
      const fn =
        kind === 'workflow' ? workflows[run.info.workflowType] : run.updateHandlers.get(name ?? '')?.handler;
      return typeof fn === 'function' ? Function.prototype.toString.call(fn) : undefined;
    },
    takeFatalError() {
      const fatal = run.fatal;
      run.fatal = undefined;
      return fatal;
    },
    setTimeout: (callback, ms, args) => startTimeout(run, callback, ms, args),
    clearTimeout(handle) {
      run.timeouts.get(handle)?.cancel();
      run.timeouts.delete(handle);
    },
    now: () => run.now,
    random: () => run.random(),
    log: (record) => run.log(record),
  });
}

/** The same API, each method making `run` the current run before it runs. */
function activeOnEveryCall(run: RunState, api: SandboxRunApi): SandboxRunApi {
  const bound: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(api) as [string, (...args: unknown[]) => unknown][]) {
    bound[name] = (...args: unknown[]) => {
      setRunState(run);
      return method(...args);
    };
  }
  return bound as unknown as SandboxRunApi;
}

function applyJob(run: RunState, workflows: WorkflowModule, job: Job): void {
  switch (job.type) {
    case 'startWorkflow': {
      const fn = workflows[run.info.workflowType];
      if (typeof fn !== 'function') {
        throw new Error(`the workflows module does not export a workflow named ${run.info.workflowType}`);
      }
      // Called a tick after the activation, through this exact chain of promises: every history
      // recorded so far orders the function's commands against its completion by it (a background
      // coroutine that issues a command some ticks after the function returned is recorded before
      // the completion), so changing the chain would change how old histories replay.
      run.scopeStorage
        .run(run.rootScope, () => Promise.resolve().then(() => fn(...job.args)))
        .then(
          (result: unknown) => {
            try {
              run.push({ type: 'completeWorkflow', result });
            } catch (error) {
              // A result that cannot be recorded fails the workflow with the reason.
              finishWithError(run, error);
              return;
            }
            run.completed = true;
          },
          (error: unknown) => finishWithError(run, error),
        );
      return;
    }
    case 'resolveActivity': {
      const pending = run.activities.get(job.seq);
      if (!pending) return;
      run.activities.delete(job.seq);
      pending.resolve(job.result);
      return;
    }
    case 'failActivity': {
      const pending = run.activities.get(job.seq);
      if (!pending) return;
      run.activities.delete(job.seq);
      pending.reject(failureToError(job.failure));
      return;
    }
    case 'fireTimer': {
      const pending = run.timers.get(job.seq);
      if (!pending) return;
      run.timers.delete(job.seq);
      pending.resolve(undefined);
      return;
    }
    case 'resolveChild': {
      const pending = run.children.get(job.seq);
      if (!pending) return;
      run.children.delete(job.seq);
      pending.resolve(job.result);
      return;
    }
    case 'failChild': {
      const pending = run.children.get(job.seq);
      if (!pending) return;
      run.children.delete(job.seq);
      pending.reject(failureToError(job.failure));
      return;
    }
    case 'signal':
      run.scopeStorage.run(run.rootScope, () => deliverSignal(job.name, job.args));
      return;
    case 'update': {
      const entry = run.updateHandler(job.name);
      if (!entry) {
        run.push({
          type: 'completeUpdate',
          id: job.id,
          failure: {
            name: 'UpdateNotRegistered',
            message: `no update handler for ${JSON.stringify(job.name)}`,
          },
        });
        return;
      }
      run.runningHandlers += 1;
      run.scopeStorage
        .run(run.rootScope, () => Promise.resolve().then(() => entry.handler(...job.args)))
        .then(
          (result: unknown) => {
            run.runningHandlers -= 1;
            pushUpdateOutcome(run, { type: 'completeUpdate', id: job.id, result });
          },
          (error: unknown) => {
            run.runningHandlers -= 1;
            pushUpdateOutcome(run, { type: 'completeUpdate', id: job.id, failure: errorToFailure(error) });
          },
        );
      return;
    }
    case 'cancelWorkflow':
      run.rootScope.cancel();
      return;
    case 'resolveSignalExternal':
    case 'failSignalExternal': {
      const pending = run.externalSignals.get(job.seq);
      if (!pending) return;
      run.externalSignals.delete(job.seq);
      if (job.type === 'resolveSignalExternal') pending.resolve(undefined);
      else pending.reject(failureToError(job.failure));
      return;
    }
    default:
      job satisfies never;
  }
}

/**
 * Runs a query handler or an update validator with its own seeded randomness: neither is recorded
 * nor replayed, so drawing from the run's sequence (Math.random, crypto, uuid4) would shift every
 * later draw of the run between the first execution and a replay.
 */
function withOwnRandomness<T>(run: RunState, stream: string, fn: () => T): T {
  const runs = run.random;
  run.random = seededRandom(`${run.info.randomnessSeed}/${stream}`);
  try {
    return fn();
  } finally {
    run.random = runs;
  }
}

/**
 * A durable timer for `setTimeout`, in a scope of its own so that `clearTimeout` cancels it alone.
 * Its delay is at least 1 ms, as in Temporal; an error thrown by the callback fails the workflow.
 */
function startTimeout(
  run: RunState,
  callback: (...args: unknown[]) => void,
  ms: number,
  args: unknown[],
): number {
  const stack = captureStack();
  const durationMs = Math.max(1, Number.isFinite(ms) ? Math.ceil(ms) : 1);
  const handle = run.nextSeq('timeout');
  const scope = new CancellationScope({ cancellable: true });
  run.timeouts.set(handle, scope);
  const fired = scope.run(() => startTimer(durationMs, stack, undefined, 'setTimeout'));
  fired.then(
    () => {
      run.timeouts.delete(handle);
      try {
        callback(...args);
      } catch (error) {
        finishWithError(run, error);
      }
    },
    () => run.timeouts.delete(handle),
  );
  return handle;
}

function waitPointsOf(run: RunState): WaitPointInfo[] {
  const points: (WaitPointInfo & { since: number })[] = [];
  const add = (description: string, wait: { stack?: CapturedStack | undefined; since?: number }) => {
    const stack = wait.stack?.stack;
    points.push({ description, since: wait.since ?? 0, ...(stack === undefined ? {} : { stack }) });
  };
  for (const [seq, a] of run.activities) add(`activity ${a.activityType} (seq ${seq})`, a);
  for (const [seq, t] of run.timers) add(`timer (seq ${seq})`, t);
  for (const [seq, c] of run.children) add(`child workflow ${c.workflowType} (seq ${seq})`, c);
  for (const [seq, s] of run.externalSignals) add(s.description ?? `external workflow (seq ${seq})`, s);
  for (const c of run.conditions) add('condition', c);
  return points.sort((a, b) => b.since - a.since).map(({ since: _since, ...point }) => point);
}

function finishWithError(run: RunState, error: unknown): void {
  if (run.completed) return;
  try {
    if (error instanceof ContinueAsNew) {
      run.push({
        type: 'continueAsNew',
        workflowType: error.workflowType,
        args: error.args,
        stack: error.stack,
      });
    } else if (isCancellation(error) && run.rootScope.consideredCancelled) {
      run.push({ type: 'cancelWorkflow' });
    } else {
      run.push({ type: 'failWorkflow', failure: errorToFailure(error) });
    }
  } catch (unrecordable) {
    // Its arguments or details cannot be recorded: the workflow fails with the reason instead.
    run.push({ type: 'failWorkflow', failure: errorToFailure(unrecordable) });
  }
  run.completed = true;
}

/** An update's outcome; one whose result or details cannot be recorded fails the update with the reason. */
function pushUpdateOutcome(run: RunState, command: Extract<Command, { type: 'completeUpdate' }>): void {
  const problem = commandPayloadProblem(command);
  run.commands.push(
    problem === undefined
      ? command
      : { type: 'completeUpdate', id: command.id, failure: errorToFailure(new TypeError(problem)) },
  );
}
