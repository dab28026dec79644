import { stat } from 'node:fs/promises';
import { relative } from 'node:path';
import { watch } from 'chokidar';
import { codeFrame } from '../replay/code-frame.js';
import { loadActivities } from '../runtime/activities-loader.js';
import { createWorkflowBundler, type WorkflowBundle, type WorkflowBundler } from '../runtime/bundler.js';
import type { WorkflowEngine } from '../runtime/engine/index.js';
import { workflowCodeFromBundle } from '../runtime/workflow-code.js';
import type { LogRecord } from '../workflow/protocol.js';
import { activitiesBuildDir, type ProjectConfig, watchedDirs } from './project-config.js';

export interface HotReloadOptions {
  config: ProjectConfig;
  engine: WorkflowEngine;
  out: (line: string) => void;
  workflowLog?: (runId: string, record: LogRecord) => void;
  /** Quiet period after the last change before reloading. Default 25 ms. */
  debounceMs?: number;
  /**
   * The bundle the engine runs now. An edit saved while the server was starting (after that bundle
   * was built, before the watcher was ready) is caught by comparing it with a fresh build.
   */
  loadedCode?: string;
  /** The build the engine runs, with its bundler: reused instead of bundling again. */
  first?: { bundler: WorkflowBundler; bundle: WorkflowBundle; startedAt: number };
  /** Told the workflow types the new code exports, after each reload that swapped it in. */
  onReloaded?: (workflowTypes: readonly string[]) => void;
}

export interface HotReloader {
  /** Resolves when the reload in progress (if any) is done. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Watches the project's source and swaps new code into the running engine: workflows are rebundled
 * (incrementally), activities reloaded, and every open run is rebuilt by replay against the new code.
 * A run the new code cannot replay is paused with the diagnostic, and resumes once the code is fixed.
 */
export async function startHotReload(options: HotReloadOptions): Promise<HotReloader> {
  const { config, engine, out } = options;
  const bundler: WorkflowBundler =
    options.first?.bundler ??
    (await createWorkflowBundler({
      workflowsPath: config.workflowsPath,
      ...(config.activitiesPath ? { activitiesPath: config.activitiesPath } : {}),
      projectRoot: config.root,
    }));
  const buildStartedAt = options.first?.startedAt ?? Date.now();
  const startBundle = options.first?.bundle ?? (await bundler.build());
  const watcher = watch(watchedDirs(config), {
    ignoreInitial: true,
    // Editors write through temp files; chokidar coalesces them only after the file settles.
    awaitWriteFinish: { stabilityThreshold: 10, pollInterval: 5 },
    ignored: (path: string) => path.includes('node_modules') || path.startsWith(config.storeDir),
  });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let pending = false;
  const changed = new Set<string>();

  const reload = async () => {
    const files = [...changed].map((f) => relative(config.root, f));
    changed.clear();
    const started = performance.now();
    try {
      const bundle = await bundler.build();
      const code = workflowCodeFromBundle(bundle, options.workflowLog ? { log: options.workflowLog } : {});
      const activities = config.activitiesPath
        ? await loadActivities({
            activitiesPath: config.activitiesPath,
            buildDir: activitiesBuildDir(config),
          })
        : undefined;
      const { paused } = await engine.setCode(code, activities);
      options.onReloaded?.(code.sandbox.workflowTypes);
      const ms = Math.round(performance.now() - started);
      out(
        `reloaded in ${ms} ms (${files.join(', ') || 'changes'})${paused.length ? `; paused: ${paused.join(', ')}` : ''}`,
      );
      // Point at the line that diverged once per reload, not once per run: runs of one workflow
      // type usually diverge at the same place.
      const shown = new Set<string>();
      for (const workflowId of paused) {
        const at = (await engine.describe({ workflowId }).catch(() => undefined))?.paused?.callSite;
        if (!at || shown.has(`${at.file}:${at.line}`)) continue;
        shown.add(`${at.file}:${at.line}`);
        const frame = codeFrame(config.root, at);
        if (frame)
          out(`  ${workflowId} no longer replays at ${at.file}:${at.line}:\n${frame.replace(/^/gm, '    ')}`);
      }
    } catch (error) {
      out(`reload failed, still running the previous code:\n${(error as Error).message}`);
    }
  };

  const schedule = (path: string) => {
    changed.add(path);
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      if (pending) return;
      pending = true;
      running = running.then(async () => {
        pending = false;
        await reload();
      });
    }, options.debounceMs ?? 25);
  };
  watcher.on('add', schedule).on('change', schedule).on('unlink', schedule);
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  // The watcher ignores files that existed when it started: catch up with edits saved meanwhile.
  const editedMeanwhile = await modifiedSince(
    [...startBundle.inputs, ...(config.activitiesPath ? [config.activitiesPath] : [])],
    buildStartedAt,
  );
  if (editedMeanwhile.length > 0) for (const file of editedMeanwhile) schedule(file);
  else if (options.loadedCode !== undefined && options.loadedCode !== startBundle.code)
    schedule(config.workflowsPath);

  return {
    settled: () => running,
    async close() {
      if (timer) clearTimeout(timer);
      await watcher.close();
      await running;
      await bundler.dispose();
    },
  };
}

/** The files among `files` modified at or after `since` (epoch ms); missing files count as modified. */
async function modifiedSince(files: string[], since: number): Promise<string[]> {
  const stats = await Promise.all(
    files.map(async (file) => {
      try {
        return (await stat(file)).mtimeMs >= since - 1 ? file : undefined;
      } catch {
        return file;
      }
    }),
  );
  return stats.filter((file): file is string => file !== undefined);
}
