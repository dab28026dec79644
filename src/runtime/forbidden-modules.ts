import { builtinModules } from 'node:module';

/**
 * Modules workflow code may not import, because they reach the world (I/O, clock, randomness)
 * outside the sandbox's control. Checked at bundle time so the user learns it before a run.
 */

/** Why a module is refused, in the words shown to the user. */
export interface ForbiddenModule {
  kind: 'builtin' | 'denied';
  /** What to do instead, for denied packages. */
  hint?: string;
}

/**
 * Packages known to be non-deterministic or host-only. Kept small on purpose: each entry names a
 * package that cannot work in a workflow and says what to use instead. A subpath import
 * (`uuid/v4`) matches its package.
 */
export const DENIED_PACKAGES: Readonly<Record<string, string>> = {
  uuid: 'use uuid4() from wfkit/workflow',
  nanoid: 'use uuid4() from wfkit/workflow',
  axios: 'make network calls in an activity',
  'node-fetch': 'make network calls in an activity',
  undici: 'make network calls in an activity',
  got: 'make network calls in an activity',
  'wfkit/client': 'start other workflows with executeChild from wfkit/workflow',
  'wfkit/activity': 'import activity helpers only in activity code',
  'wfkit/testing': 'import wfkit/testing only in tests',
};

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** Matches `node:*` and every Node built-in name (`fs`, `fs/promises`, `child_process`...). */
export const BUILTIN_FILTER = new RegExp(`^(?:node:.*|${builtinModules.map(escapeRegExp).join('|')})$`);

/** Matches every denied package and its subpaths. */
export const DENIED_FILTER = new RegExp(
  `^(?:${Object.keys(DENIED_PACKAGES).map(escapeRegExp).join('|')})(?:/.*)?$`,
);

/** Classifies an import specifier as written; undefined when workflow code may import it. */
export function forbiddenModule(specifier: string): ForbiddenModule | undefined {
  if (BUILTIN_FILTER.test(specifier)) return { kind: 'builtin' };
  for (const [name, hint] of Object.entries(DENIED_PACKAGES)) {
    if (specifier === name || specifier.startsWith(`${name}/`)) return { kind: 'denied', hint };
  }
  return undefined;
}
