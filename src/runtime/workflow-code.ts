import type { CallSite } from '../history/events.js';
import { type BundleOptions, bundleWorkflows, type WorkflowBundle } from './bundler.js';
import type { WorkflowCode } from './engine/index.js';
import { conventionalActivitiesPath } from './project.js';
import { type SandboxOptions, WorkflowSandbox } from './sandbox.js';
import { workflowThread } from './sandbox-thread.js';
import { relativeTo, resolveCallSite } from './source-map.js';

export interface LoadedWorkflowCode extends WorkflowCode {
  bundle: WorkflowBundle;
}

/** Workflow code ready to run: a sandbox over the bundle, and call sites relative to the project. */
export function workflowCodeFromBundle(
  bundle: WorkflowBundle,
  options: SandboxOptions = {},
): LoadedWorkflowCode {
  const sandbox = WorkflowSandbox.create(bundle, options);
  const cache = new Map<string, CallSite | undefined>();
  return {
    bundle,
    sandbox,
    resolveCallSite(stack: string) {
      if (cache.has(stack)) return cache.get(stack);
      const site = resolveCallSite(bundle, stack);
      const relative = site ? { ...site, file: relativeTo(bundle.projectRoot, site.file) } : undefined;
      if (cache.size > 10_000) cache.clear();
      cache.set(stack, relative);
      return relative;
    },
  };
}

/** Bundles the workflows entry (activities by convention: src/activities next to it) and loads it into a sandbox. */
export async function loadWorkflowCode(options: BundleOptions & SandboxOptions): Promise<LoadedWorkflowCode> {
  workflowThread().warmUp();
  const activitiesPath = options.activitiesPath ?? conventionalActivitiesPath(options.workflowsPath);
  const bundle = await bundleWorkflows(activitiesPath ? { ...options, activitiesPath } : options);
  return workflowCodeFromBundle(bundle, options);
}
