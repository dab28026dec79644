import { createHash } from 'node:crypto';
import type { ActivityLogRecord } from '../activity/log.js';
import type { FileStoreOpenReport } from '../history/file-store.js';
import { openStore } from '../history/open-store.js';
import type { HistoryStore } from '../history/store.js';
import type { StoreFileSystem } from '../history/store-fs.js';
import { loadActivities } from '../runtime/activities-loader.js';
import type { WorkflowBundle } from '../runtime/bundler.js';
import { OffsetClock } from '../runtime/clock.js';
import {
  type ClusterOptions,
  type EngineLogger,
  type EngineMetrics,
  type EngineTracing,
  type RecoveryProgress,
  WorkflowEngine,
} from '../runtime/engine/index.js';
import {
  type LoadedWorkflowCode,
  loadWorkflowCode,
  workflowCodeFromBundle,
} from '../runtime/workflow-code.js';
import type { LogRecord } from '../workflow/protocol.js';
import { activitiesBuildDir, type ProjectConfig } from './project-config.js';
import { DevTimeControl, readClockOffset } from './time-control.js';

export interface LocalEngine {
  engine: WorkflowEngine;
  store: HistoryStore;
  code: LoadedWorkflowCode;
  /** Real time plus the offset skipped with `wf time skip` (kept in the store). */
  clock: OffsetClock;
  /** Time control (`wf time skip`, `wf timer fire`); absent on a database store shared by several servers. */
  time: DevTimeControl | undefined;
  /** Where the store is, for people (a directory, or a URL without its password). */
  storeWhere: string;
  /** The build of the workflow code: a hash of its bundle, recorded with the runs it writes. */
  buildId: string;
  /** What opening the store repaired or found, as lines for the terminal (empty when all was well). */
  storeNotes: string[];
  /** The runs open at start-up, brought back in the background (`done` when the last is back). */
  recovery: RecoveryProgress;
  /** Stops the engine and releases the store (flushing its index and its lock). */
  close(): Promise<void>;
}

export interface LocalEngineOptions {
  /** The workflows' bundle when the caller started building it (first-build.ts); else built here. */
  workflowBundle?: Promise<WorkflowBundle>;
  maxConcurrentActivities?: number;
  maxCachedRuns?: number;
  logger?: EngineLogger;
  workflowLog?: (runId: string, record: LogRecord) => void;
  /** Receives activity code's `log` lines. */
  activityLog?: (record: ActivityLogRecord) => void;
  onPauseChange?: (run: { workflowId: string; runId: string }, reason: string | undefined) => void;
  /** Told after every `wf time skip`, with the new offset. */
  onTimeSkip?: (offsetMs: number) => void;
  /** The store's file system (default node:fs): the torture suite injects disk faults here. */
  storeFs?: StoreFileSystem;
  /** Create or upgrade a PostgreSQL store's schema on open (otherwise an outdated one is refused). */
  migrate?: boolean;
  /** PostgreSQL schema of the store (default `wf`). */
  schema?: string;
  /** How this process shares a PostgreSQL store with others (leases, polling). */
  cluster?: ClusterOptions;
  /** Receives the engine's counts and timings (the dev server's Prometheus metrics). */
  metrics?: EngineMetrics;
  /** Receives the engine's finished spans (OpenTelemetry, when tracing is on). */
  tracing?: EngineTracing;
}

/**
 * The engine of `wf dev` and `wf run`: the project's workflows and activities over the crash-safe
 * file store in `.wf/`, on the real clock plus the offset `wf time skip` left in the store, with every open run resumed where it stopped.
 */
export async function openLocalEngine(
  config: ProjectConfig,
  options: LocalEngineOptions = {},
): Promise<LocalEngine> {
  // The code, the activities and the store are loaded at once (esbuild, the workflow thread and
  // the disk work side by side); when one fails, a store that opened is closed again.
  const sandboxOptions = options.workflowLog ? { log: options.workflowLog } : {};
  const [codeLoad, activitiesLoad, storeOpen] = await Promise.allSettled([
    options.workflowBundle
      ? options.workflowBundle.then((bundle) => workflowCodeFromBundle(bundle, sandboxOptions))
      : loadWorkflowCode({
          workflowsPath: config.workflowsPath,
          ...(config.activitiesPath ? { activitiesPath: config.activitiesPath } : {}),
          projectRoot: config.root,
          ...sandboxOptions,
        }),
    config.activitiesPath
      ? loadActivities({ activitiesPath: config.activitiesPath, buildDir: activitiesBuildDir(config) })
      : Promise.resolve({}),
    openStore(config.storeDir, {
      ...(options.storeFs ? { fileSystem: options.storeFs } : {}),
      ...(options.migrate ? { migrate: true } : {}),
      ...(options.schema ? { schema: options.schema } : {}),
    }),
  ]);
  if (
    codeLoad.status === 'rejected' ||
    activitiesLoad.status === 'rejected' ||
    storeOpen.status === 'rejected'
  ) {
    if (storeOpen.status === 'fulfilled') await storeOpen.value.store.close();
    const failed = [codeLoad, activitiesLoad, storeOpen].find((r) => r.status === 'rejected');
    throw (failed as PromiseRejectedResult).reason;
  }
  const code = codeLoad.value;
  const activities = activitiesLoad.value;
  const opened = storeOpen.value;
  const store: HistoryStore = opened.store;
  const database = opened.kind === 'postgres';
  let clock: OffsetClock;
  try {
    // Skipped time lives in a store directory; servers sharing a database all run on real time.
    clock = new OffsetClock(database ? 0 : await readClockOffset(config.storeDir));
  } catch (error) {
    await store.close();
    throw error;
  }
  const buildId = createHash('sha256').update(code.bundle.code).digest('hex').slice(0, 12);
  const engine = new WorkflowEngine({
    store,
    code,
    clock,
    activities,
    ...(options.maxConcurrentActivities ? { maxConcurrentActivities: options.maxConcurrentActivities } : {}),
    ...(options.maxCachedRuns ? { maxCachedRuns: options.maxCachedRuns } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.activityLog ? { activityLog: options.activityLog } : {}),
    ...(options.onPauseChange ? { onPauseChange: options.onPauseChange } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.tracing ? { tracing: options.tracing } : {}),
    ...(database ? { cluster: { buildId, ...options.cluster } } : {}),
  });
  let recovery: RecoveryProgress;
  try {
    recovery = await engine.startRecovery();
  } catch (error) {
    await store.close();
    throw error;
  }
  return {
    engine,
    store,
    code,
    clock,
    time: database ? undefined : new DevTimeControl(engine, clock, config.storeDir, options.onTimeSkip),
    storeWhere: opened.where,
    buildId,
    storeNotes: opened.kind === 'file' ? describeOpenReport(opened.store.openReport()) : [],
    recovery,
    async close() {
      await engine.shutdown();
      await store.close();
    },
  };
}

/** What opening a file store repaired or found, as lines for the terminal (empty when all was well). */
export function describeOpenReport(report: FileStoreOpenReport): string[] {
  const lines: string[] = [];
  for (const torn of report.truncated) {
    lines.push(
      `warning: cut a torn final record (${torn.bytes} bytes) from ${torn.file}; the original is kept at ${torn.backup}`,
    );
  }
  for (const corrupt of report.corrupt) {
    lines.push(
      `warning: corrupt history ${corrupt.file}:${corrupt.line}: ${corrupt.message} (run left untouched)`,
    );
  }
  if (report.lockTakenOver) lines.push(`note: ${report.lockTakenOver.message}`);
  return lines;
}
