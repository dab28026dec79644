import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const EXTENSIONS = ['.ts', '.tsx', '.mts', '.js', '.mjs'];

/** `<base>` with the first extension that exists, or undefined. */
export function resolveEntry(base: string): string | undefined {
  if (existsSync(base) && /\.[cm]?[jt]sx?$/.test(base)) return base;
  for (const ext of EXTENSIONS) {
    if (existsSync(base + ext)) return base + ext;
    if (existsSync(join(base, `index${ext}`))) return join(base, `index${ext}`);
  }
  return undefined;
}

/** The activities entry next to a workflows entry by convention: src/workflows/… → src/activities/index.ts. */
export function conventionalActivitiesPath(workflowsPath: string): string | undefined {
  const workflowsDir = dirname(resolve(workflowsPath));
  return resolveEntry(join(workflowsDir, '..', 'activities'));
}
