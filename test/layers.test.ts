/**
 * The layer order of src/ is enforced by Biome (biome.json: one noRestrictedImports override per
 * folder). These checks keep that enforcement whole as folders are added: every folder has its rule,
 * and the rules together admit one order, so no two folders may import each other, even indirectly.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The one folder with no rule: nothing sits above the commands. */
const TOP = 'commands';

interface Override {
  includes: string[];
  linter?: {
    rules?: { style?: { noRestrictedImports?: { options?: { patterns?: { group: string[] }[] } } } };
  };
}

const folders = readdirSync(`${root}/src`, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

const config = JSON.parse(readFileSync(`${root}/biome.json`, 'utf8')) as { overrides: Override[] };

/** For each src folder with a layer rule: the src folders its rule forbids importing. */
function forbiddenByFolder(): Map<string, Set<string>> {
  const rules = new Map<string, Set<string>>();
  for (const override of config.overrides) {
    const patterns = override.linter?.rules?.style?.noRestrictedImports?.options?.patterns;
    if (!patterns) continue;
    for (const include of override.includes) {
      const folder = /^src\/([^/*]+)\/\*\*$/.exec(include)?.[1];
      if (!folder) continue;
      const forbidden = rules.get(folder) ?? new Set<string>();
      for (const pattern of patterns.flatMap((p) => p.group)) {
        const target = /^\*\*\/([^/*]+)\/\*\*$/.exec(pattern)?.[1];
        if (target) forbidden.add(target);
      }
      rules.set(folder, forbidden);
    }
  }
  return rules;
}

/** A chain of folders each allowed to import the next, back to the first; undefined when there is none. */
function findCycle(allowed: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (folder: string): string[] | undefined => {
    if (state.get(folder) === 'done') return undefined;
    if (state.get(folder) === 'open') return [...path.slice(path.indexOf(folder)), folder];
    state.set(folder, 'open');
    path.push(folder);
    for (const next of allowed.get(folder) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(folder, 'done');
    return undefined;
  };
  for (const folder of allowed.keys()) {
    const cycle = visit(folder);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('the layer rules in biome.json', () => {
  const rules = forbiddenByFolder();

  it('give every folder under src/ but the commands a layer rule', () => {
    const missing = folders.filter((f) => f !== TOP && !rules.has(f));
    expect(missing, 'add an override for each (see docs/architecture.md, Layers)').toEqual([]);
  });

  it('keep the browser code (src/webui) to the protocol and common, without Node built-ins', () => {
    const webui = rules.get('webui');
    expect(webui, 'src/webui needs its override').toBeDefined();
    const allowed = folders.filter((f) => f !== 'webui' && !webui!.has(f));
    expect(allowed.sort()).toEqual(['common', 'protocol']);
    const groups = config.overrides
      .filter((o) => o.includes.includes('src/webui/**'))
      .flatMap((o) => o.linter?.rules?.style?.noRestrictedImports?.options?.patterns ?? [])
      .flatMap((p) => p.group);
    expect(groups).toContain('node:*');
  });

  it('admit one order of the folders: no two may import each other, directly or through others', () => {
    const allowed = new Map(folders.map((f) => [f, folders.filter((g) => g !== f && !rules.get(f)?.has(g))]));
    expect(
      findCycle(allowed),
      'each folder in the cycle may import the next: forbid one step',
    ).toBeUndefined();
  });
});
