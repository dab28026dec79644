import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { InvalidArgumentError } from '../common/errors.js';
import type { CallSite, HistoryEvent } from '../history/events.js';
import { readHistoryFile } from '../history/file-store.js';
import { openStore, redactUrl } from '../history/open-store.js';
import { HistoryCorruptError } from '../history/store.js';
import { NonDeterminismError } from '../runtime/errors.js';
import { RunExecutor } from '../runtime/executor.js';
import type { LoadedWorkflowCode } from '../runtime/workflow-code.js';

/** One history and how its replay went. */
export interface ReplayOutcome {
  /** The file (or `store:<workflowId>/<runId>`) the history came from. */
  source: string;
  workflowId?: string;
  workflowType?: string;
  events: number;
  /**
   * `ok`: replayed. `nondeterministic`: the code does not replay it (exit 1). `error`: the history
   * cannot be used, e.g. invalid JSON, an unknown format version, a truncated line (exit 2).
   */
  status: 'ok' | 'nondeterministic' | 'error';
  message?: string;
  /** How long replaying it took. */
  ms?: number;
  /** For an unreadable history file: the 1-based line where reading stopped. */
  line?: number;
  /** Where the history's recorded event was issued, when the code diverged from it. */
  recordedSite?: CallSite;
  /** The line of the current code the report points at: where it issued the diverging command, or where it waits instead. */
  codeSite?: CallSite;
  error?: Error;
}

export interface ReplaySummary {
  outcomes: ReplayOutcome[];
  ok: number;
  /** nondeterministic + unreadable */
  failed: number;
  nondeterministic: number;
  unreadable: number;
  events: number;
  ms: number;
}

export interface ReplayRequest {
  code: LoadedWorkflowCode;
  /** History files or directories of them (*.jsonl). */
  paths: string[];
  /**
   * A store whose runs to replay, read only (a running `wf dev` is not disturbed): a directory, or a
   * postgres:// URL.
   */
  storeDir?: string;
  /** The PostgreSQL schema, for a postgres:// store (default `wf`). */
  storeSchema?: string;
  cwd?: string;
  /** Succeed when there is nothing to replay (otherwise an InvalidArgumentError). */
  allowEmpty?: boolean;
}

/**
 * Replays recorded histories against the current workflow code. A history the code no longer
 * produces is reported with the NonDeterminismError (event, recorded vs issued, source lines); a
 * history that cannot be read is reported with its file and line.
 */
export async function replayHistories(request: ReplayRequest): Promise<ReplaySummary> {
  const started = performance.now();
  const cwd = request.cwd ?? process.cwd();
  const outcomes: ReplayOutcome[] = [];
  const files = await collectFiles(request.paths.map((p) => resolve(cwd, p)));
  for (const file of files) {
    const source = relative(cwd, file) || file;
    let history: HistoryEvent[];
    try {
      history = await readHistoryFile(file);
    } catch (error) {
      outcomes.push(unreadable(source, error as Error));
      continue;
    }
    outcomes.push(timed(() => replayOne(request.code, source, history)));
  }
  if (request.storeDir) {
    const { store } = await openStore(request.storeDir, {
      cwd,
      readOnly: true,
      flag: '--from-store',
      ...(request.storeSchema ? { schema: request.storeSchema } : {}),
    });
    try {
      for (const run of await store.listRuns()) {
        const source = `store:${run.workflowId}/${run.runId}`;
        if (run.status === 'CORRUPT') {
          outcomes.push({
            source,
            workflowId: run.workflowId,
            events: 0,
            status: 'error',
            message: run.corruption?.message ?? 'corrupt',
          });
          continue;
        }
        try {
          const history = await store.readHistory(run);
          outcomes.push(timed(() => replayOne(request.code, source, history)));
        } catch (error) {
          outcomes.push({
            source,
            events: 0,
            status: 'error',
            message: (error as Error).message,
            error: error as Error,
          });
        }
      }
    } finally {
      await store.close();
    }
  }
  if (outcomes.length === 0 && !request.allowEmpty) {
    throw new InvalidArgumentError(
      `no histories found in ${[...request.paths, ...(request.storeDir ? [redactUrl(request.storeDir)] : [])].join(', ')}: ` +
        'a CI check that replays nothing proves nothing (pass --allow-empty if that is expected)',
    );
  }
  const failed = outcomes.filter((o) => o.status !== 'ok').length;
  return {
    outcomes,
    ok: outcomes.length - failed,
    failed,
    nondeterministic: outcomes.filter((o) => o.status === 'nondeterministic').length,
    unreadable: outcomes.filter((o) => o.status === 'error').length,
    events: outcomes.reduce((n, o) => n + o.events, 0),
    ms: performance.now() - started,
  };
}

function replayOne(code: LoadedWorkflowCode, source: string, history: HistoryEvent[]): ReplayOutcome {
  const first = history[0];
  const base = {
    source,
    events: history.length,
    ...(first?.type === 'WorkflowExecutionStarted'
      ? { workflowId: first.workflowId, workflowType: first.workflowType }
      : {}),
  };
  if (first?.type === 'WorkflowExecutionStarted' && !code.sandbox.hasWorkflow(first.workflowType)) {
    return {
      ...base,
      status: 'nondeterministic',
      message: `workflow type ${first.workflowType} is no longer exported by the workflows module (it exports ${code.sandbox.workflowTypes.join(', ') || 'nothing'})`,
    };
  }
  try {
    RunExecutor.replay(history, {
      sandbox: code.sandbox,
      ...(code.resolveCallSite ? { resolveCallSite: code.resolveCallSite } : {}),
    });
    return { ...base, status: 'ok' };
  } catch (error) {
    if (error instanceof NonDeterminismError) {
      const site = error.codeSite;
      const recorded = error.details.recorded;
      const recordedSite = recorded && 'callSite' in recorded ? recorded.callSite : undefined;
      return {
        ...base,
        status: 'nondeterministic',
        message: error.message,
        error,
        ...(site ? { codeSite: site } : {}),
        ...(recordedSite ? { recordedSite } : {}),
      };
    }
    if (error instanceof HistoryCorruptError)
      return { ...unreadable(source, error), ...base, events: history.length };
    return { ...base, status: 'error', message: (error as Error).message, error: error as Error };
  }
}

function timed(fn: () => ReplayOutcome): ReplayOutcome {
  const start = performance.now();
  const outcome = fn();
  return { ...outcome, ms: performance.now() - start };
}

/** A history that cannot be used, with the line where reading stopped when the error names one. */
function unreadable(source: string, error: Error): ReplayOutcome {
  if (error instanceof HistoryCorruptError) {
    const { line, message } = error.corruption;
    return {
      source,
      events: 0,
      status: 'error',
      line,
      message: `${source}:${line}: ${message}. Fix the file, or record it again (wf export).`,
      error,
    };
  }
  return { source, events: 0, status: 'error', message: `${source}: ${error.message}`, error };
}

async function collectFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch {
      throw new InvalidArgumentError(
        `${path} does not exist: pass history files (*.jsonl) or directories of them`,
      );
    }
    if (info.isDirectory()) {
      const entries = await readdir(path, { recursive: true });
      files.push(
        ...entries
          .filter((e) => e.endsWith('.jsonl'))
          .sort()
          .map((e) => join(path, e)),
      );
    } else files.push(path);
  }
  return files;
}
