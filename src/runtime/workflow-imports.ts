import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import * as esbuild from 'esbuild';
import { unsupportedNameMessage } from './unsupported-workflow-names.js';

const RUNTIME_SPECIFIER = 'wfkit/workflow';

// `import x, { a, b as c } from 'wfkit/workflow'`, `import * as wf from ...`, `export { a } from ...`.
const IMPORT_RE =
  /\b(import|export)\s+(?:type\s+)?(?:([\w$]+)\s*,?\s*)?(?:\{([^}]*)\}|\*\s*as\s+([\w$]+))?\s*from\s*["']wfkit\/workflow["']/g;

const LOADERS: Record<string, esbuild.Loader> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
};

interface NamedUse {
  name: string;
  /** Offset in the source the use was found in. */
  at: number;
}

/**
 * The names a module takes from wfkit/workflow as values. Type-only imports are left out: the
 * source is first compiled to JavaScript, which drops them (as the bundle does).
 */
function valueNamesOf(js: string): NamedUse[] {
  const uses: NamedUse[] = [];
  for (const match of js.matchAll(IMPORT_RE)) {
    const [, , defaultName, braces, namespace] = match;
    if (defaultName && defaultName !== 'type') uses.push({ name: 'default', at: match.index });
    if (braces !== undefined) {
      for (const part of braces.split(',')) {
        const imported = part
          .trim()
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/)[0]
          ?.trim();
        if (imported && !part.trim().startsWith('type ')) uses.push({ name: imported, at: match.index });
      }
    }
    if (namespace) {
      const member = new RegExp(
        `(?<![\\w$.])${namespace.replace(/\$/g, '\\$')}\\s*\\.\\s*([A-Za-z_$][\\w$]*)`,
        'g',
      );
      for (const use of js.matchAll(member)) uses.push({ name: use[1]!, at: use.index });
    }
  }
  return uses;
}

/** Where `name` is written in the original source (its import, else its first use), for the error's location. */
function locate(source: string, name: string): { line: number; column: number; lineText: string } {
  let offset = -1;
  for (const match of source.matchAll(IMPORT_RE)) {
    const found = new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`).exec(match[0]);
    if (found) {
      offset = match.index + found.index;
      break;
    }
  }
  if (offset < 0) offset = Math.max(0, source.search(new RegExp(`\\.${name.replace(/\$/g, '\\$')}\\b`)) + 1);
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = source.indexOf('\n', offset);
  return {
    line,
    column: offset - lineStart,
    lineText: source.slice(lineStart, lineEnd < 0 ? undefined : lineEnd),
  };
}

/**
 * esbuild errors for the names `file` imports from wfkit/workflow that it does not export: TypeScript
 * modules may import names esbuild cannot tell from types, so a missing one would otherwise be
 * `undefined` at run time ("(void 0) is not a function").
 */
export async function checkWorkflowImports(
  file: string,
  exported: ReadonlySet<string>,
  displayPath: string,
): Promise<esbuild.PartialMessage[]> {
  const loader = LOADERS[extname(file)];
  if (!loader) return [];
  const source = await readFile(file, 'utf8');
  if (!source.includes(RUNTIME_SPECIFIER)) return [];
  let js: string;
  try {
    js = (await esbuild.transform(source, { loader, format: 'esm', sourcefile: file, logLevel: 'silent' }))
      .code;
  } catch {
    return []; // a syntax error: the bundle reports it, with its location
  }
  const missing = [...new Set(valueNamesOf(js).map((use) => use.name))].filter((name) => !exported.has(name));
  return missing.map((name) => ({
    text: unsupportedNameMessage(name),
    location: { file: displayPath, ...locate(source, name) },
  }));
}
