import { createWorkflowBundler, type WorkflowBundle, type WorkflowBundler } from '../runtime/bundler.js';
import { conventionalActivitiesPath } from '../runtime/project.js';
import { workflowThread } from '../runtime/sandbox-thread.js';
import type { ProjectConfig } from './project-config.js';

/**
 * The first build of a server that watches its code: the engine runs it, and the hot reloader keeps
 * its bundler (esbuild's incremental context) for the rebuilds, so the code is bundled once at start.
 */
export interface FirstBuild {
  bundler: WorkflowBundler;
  bundle: Promise<WorkflowBundle>;
  /** When the build began (epoch ms): files saved from then on may be missing from it. */
  startedAt: number;
}

/**
 * Starts bundling the workflows and booting the workflow thread, both off the main thread, so that
 * the caller loads the rest of the server meanwhile.
 */
export async function startFirstBuild(config: ProjectConfig): Promise<FirstBuild> {
  workflowThread().warmUp();
  // As loadWorkflowCode does: without an activities entry, src/activities beside the workflows.
  const activitiesPath = config.activitiesPath ?? conventionalActivitiesPath(config.workflowsPath);
  const bundler = await createWorkflowBundler({
    workflowsPath: config.workflowsPath,
    ...(activitiesPath ? { activitiesPath } : {}),
    projectRoot: config.root,
  });
  const startedAt = Date.now();
  const bundle = bundler.build();
  bundle.catch(() => undefined); // the engine reports it when it awaits the bundle
  return { bundler, bundle, startedAt };
}
