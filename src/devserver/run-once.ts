import { randomUUID } from 'node:crypto';
import type { HistoryEvent } from '../history/events.js';
import type { WorkflowOutcome } from '../protocol/service.js';
import { openLocalEngine } from './local-engine.js';
import type { ProjectConfig } from './project-config.js';
import { startTraceExport } from './trace-export.js';

export interface RunOnceOptions {
  config: ProjectConfig;
  workflowType: string;
  args: unknown[];
  workflowId?: string;
  workflowLog?: (line: string) => void;
  /** Told what opening the store repaired or found (torn tails cut, corrupt runs, a lock taken over). */
  warn?: (line: string) => void;
  /** Export OpenTelemetry traces even when no `OTEL_*` variable asks for it (`--otel`). */
  otel?: boolean;
  /** The environment the `OTEL_*` variables are read from. Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface RunOnceResult {
  workflowId: string;
  runId: string;
  outcome: WorkflowOutcome;
  history: HistoryEvent[];
}

/**
 * `wf run`: starts the engine in this process on the project's store, runs one workflow to its end
 * and stops. Open runs found in the store are resumed meanwhile, as `wf dev` would.
 */
export async function runWorkflowOnce(options: RunOnceOptions): Promise<RunOnceResult> {
  const log = options.workflowLog;
  const traces = await startTraceExport(options.otel ?? false, options.env ?? process.env, (message) =>
    options.warn?.(`warning: ${message}`),
  );
  let local: Awaited<ReturnType<typeof openLocalEngine>>;
  try {
    local = await openLocalEngine(options.config, {
      ...(traces ? { tracing: traces.tracing } : {}),
      ...(log
        ? {
            workflowLog: (_runId, record) =>
              log(
                `[${record.level}] ${record.message}${record.attributes ? ` ${JSON.stringify(record.attributes)}` : ''}`,
              ),
            activityLog: ({ level, message, attributes, activity }) =>
              log(
                `[${level}] ${message}${attributes ? ` ${JSON.stringify(attributes)}` : ''} (activity ${activity.activityType} attempt ${activity.attempt})`,
              ),
          }
        : {}),
    });
  } catch (error) {
    await traces?.shutdown();
    throw error;
  }
  for (const line of local.storeNotes) options.warn?.(line);
  try {
    const workflowId = options.workflowId ?? `${options.workflowType}-${randomUUID().slice(0, 8)}`;
    const started = await local.engine.startWorkflow({
      workflowType: options.workflowType,
      workflowId,
      args: options.args,
    });
    const outcome = await local.engine.result({ workflowId, runId: started.runId, followRuns: false });
    const history = await local.engine.history({ workflowId, runId: started.runId });
    return { workflowId, runId: started.runId, outcome, history };
  } finally {
    await local.close();
    // Exports the spans still buffered before the process exits.
    await traces?.shutdown();
  }
}
