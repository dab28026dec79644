import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import sjson from 'secure-json-parse';
import { DEFAULT_PORT } from '../common/defaults.js';
import { InvalidArgumentError } from '../common/errors.js';
import { resolveEntry } from '../runtime/project.js';

export const CONFIG_FILE = 'wf.config.json';

/** Where a project's pieces are. Flags win over `wf.config.json`, which wins over conventions. */
export interface ProjectConfig {
  root: string;
  workflowsPath: string;
  activitiesPath?: string;
  /** The store: a directory (absolute), or a postgres:// URL as given. */
  storeDir: string;
  port: number;
}

/** True when the project's store is a PostgreSQL database rather than a directory. */
export function storeIsDatabase(config: Pick<ProjectConfig, 'storeDir'>): boolean {
  return /^postgres(ql)?:\/\//i.test(config.storeDir);
}

/**
 * Where compiled activities go: inside the project, so their bare imports resolve from its
 * node_modules whatever `--store` says.
 */
export function activitiesBuildDir(config: ProjectConfig): string {
  return join(config.root, 'node_modules', '.cache', 'wf');
}

/** What hot reload watches: src/ by convention, plus the folders of the configured entries. */
export function watchedDirs(config: ProjectConfig): string[] {
  const dirs = [join(config.root, 'src'), dirname(config.workflowsPath)];
  if (config.activitiesPath) dirs.push(dirname(config.activitiesPath));
  return [...new Set(dirs.filter((dir) => existsSync(dir)))];
}

export interface ProjectOverrides {
  dir?: string;
  workflows?: string;
  activities?: string;
  store?: string;
  port?: number;
}

interface ConfigFile {
  workflows?: string;
  activities?: string;
  store?: string;
  port?: number;
}

export async function resolveProject(overrides: ProjectOverrides = {}): Promise<ProjectConfig> {
  const root = resolve(overrides.dir ?? '.');
  if (!existsSync(root)) throw new InvalidArgumentError(`project directory ${root} does not exist`);
  const file = await readConfigFile(root);
  const workflowsSetting = overrides.workflows ?? file.workflows;
  const workflowsPath = workflowsSetting
    ? resolveEntry(resolve(root, workflowsSetting))
    : resolveEntry(join(root, 'src', 'workflows'));
  if (!workflowsPath) {
    throw new InvalidArgumentError(
      workflowsSetting
        ? `no workflows entry at ${resolve(root, workflowsSetting)}: check --workflows (or "workflows" in ${CONFIG_FILE})`
        : `no workflows entry in ${root}: create src/workflows/index.ts, pass --workflows PATH, or run \`wf init\` to scaffold a project`,
    );
  }
  const activitiesSetting = overrides.activities ?? file.activities;
  const activitiesPath = activitiesSetting
    ? resolveEntry(resolve(root, activitiesSetting))
    : resolveEntry(join(root, 'src', 'activities'));
  if (activitiesSetting && !activitiesPath) {
    throw new InvalidArgumentError(
      `no activities entry at ${resolve(root, activitiesSetting)}: check --activities (or "activities" in ${CONFIG_FILE})`,
    );
  }
  const port = overrides.port ?? file.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`port ${port} is not a TCP port (0-65535)`);
  }
  return {
    root,
    workflowsPath,
    ...(activitiesPath ? { activitiesPath } : {}),
    storeDir: storeLocation(root, overrides.store ?? file.store ?? '.wf'),
    port,
  };
}

function storeLocation(root: string, spec: string): string {
  return /^postgres(ql)?:\/\//i.test(spec) ? spec : resolve(root, spec);
}

async function readConfigFile(root: string): Promise<ConfigFile> {
  const path = join(root, CONFIG_FILE);
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = sjson.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new InvalidArgumentError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(
      `${path} must hold a JSON object like {"workflows": "src/workflows/index.ts"}`,
    );
  }
  const config = parsed as Record<string, unknown>;
  for (const key of Object.keys(config)) {
    if (!['workflows', 'activities', 'store', 'port', '$schema'].includes(key)) {
      throw new InvalidArgumentError(
        `${path}: unknown setting "${key}" (known: workflows, activities, store, port)`,
      );
    }
  }
  for (const key of ['workflows', 'activities', 'store'] as const) {
    if (config[key] !== undefined && typeof config[key] !== 'string') {
      throw new InvalidArgumentError(`${path}: "${key}" must be a path string`);
    }
  }
  if (config.port !== undefined && typeof config.port !== 'number') {
    throw new InvalidArgumentError(`${path}: "port" must be a number`);
  }
  return config as ConfigFile;
}
