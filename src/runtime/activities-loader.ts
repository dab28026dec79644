import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { WfError } from '../common/errors.js';
import type { ActivityFunction } from './engine/index.js';
import { unsupportedActivityNameMessage } from './unsupported-activity-names.js';

const WFKIT_ENTRIES = ['activity', 'workflow', 'client', 'testing'] as const;

/** wf's own module for `wfkit/<name>`, next to this file (src when run from source, dist when built). */
function ownModule(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = join(here, '..', name, 'index.js');
  const source = join(here, '..', name, 'index.ts');
  return import.meta.url.endsWith('.ts') ? source : built;
}

const wfkitSelfPlugin: esbuild.Plugin = {
  name: 'wfkit-self',
  setup(build) {
    build.onResolve({ filter: /^wfkit\/(activity|workflow|client|testing)$/ }, (args) => {
      const name = args.path.split('/')[1] as (typeof WFKIT_ENTRIES)[number];
      return { path: pathToFileURL(ownModule(name)).href, external: true };
    });
  },
};

/**
 * Loads the activities module of a project. TypeScript is compiled with esbuild into the project's
 * `.wf/build` (so its own node_modules resolve), and `wfkit/*` imports point at this wf, so that
 * `Context.current()` in an activity is the context the engine set.
 */
export async function loadActivities(options: {
  activitiesPath: string;
  buildDir: string;
}): Promise<Record<string, ActivityFunction>> {
  let result: esbuild.BuildResult<{ write: false }>;
  try {
    result = await esbuild.build({
      entryPoints: [options.activitiesPath],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      sourcemap: 'inline',
      logLevel: 'silent',
      plugins: [wfkitSelfPlugin],
    });
  } catch (error) {
    const messages = (error as esbuild.BuildFailure).errors?.map(
      (m) =>
        `${m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ` : ''}${m.text}`,
    );
    throw new WfError(
      'INVALID_ARGUMENT',
      `could not build the activities module ${options.activitiesPath}:\n${messages?.join('\n') ?? (error as Error).message}`,
    );
  }
  const code = result.outputFiles[0]?.text ?? '';
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  await mkdir(options.buildDir, { recursive: true });
  const file = join(options.buildDir, `activities-${hash}.mjs`);
  // Written aside and renamed into place: a server starting at the same moment may be importing the
  // same file, and must never see it truncated. Same content, same name: the rename is harmless.
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, code);
  await rename(temporary, file);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw missingWfkitExport(error, options.activitiesPath) ?? error;
  }
  const activities: Record<string, ActivityFunction> = {};
  for (const [name, value] of Object.entries(module)) {
    if (typeof value === 'function' && name !== 'default') activities[name] = value as ActivityFunction;
  }
  return activities;
}

/**
 * Node's link error for an import of a name `wfkit/activity` lacks ("does not provide an export
 * named 'getClient'"), as a message that says why and what to use; undefined for other errors.
 */
function missingWfkitExport(error: unknown, activitiesPath: string): WfError | undefined {
  const message = error instanceof Error ? error.message : '';
  const match = /module '([^']*)' does not provide an export named '([^']*)'/.exec(message);
  if (!match || pathToFileURL(ownModule('activity')).href !== match[1]) return undefined;
  return new WfError(
    'INVALID_ARGUMENT',
    `could not load the activities module ${activitiesPath}: ${unsupportedActivityNameMessage(match[2]!)}`,
  );
}
