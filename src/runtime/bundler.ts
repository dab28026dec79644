import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { WfError } from '../common/errors.js';
import { BUILTIN_FILTER, DENIED_FILTER, DENIED_PACKAGES, forbiddenModule } from './forbidden-modules.js';
import { relativeTo } from './source-map.js';
import { checkWorkflowImports } from './workflow-imports.js';

export interface BundleOptions {
  /** The workflows entry, e.g. `<project>/src/workflows/index.ts`. */
  workflowsPath: string;
  /**
   * The activities entry, e.g. `<project>/src/activities/index.ts`. Workflow imports of it are
   * replaced by activity references; when it is an `index.*` file, so are imports of any file
   * under its directory.
   */
  activitiesPath?: string;
  /** wf's sandbox runtime module; default `../workflow/index.ts` (source) or `.js` (built). */
  workflowRuntimePath?: string;
  /**
   * The project directory paths in messages are relative to. Default: the nearest directory
   * above the workflows entry holding a package.json, else the one holding its `src` folder.
   */
  projectRoot?: string;
}

/**
 * Two scripts to evaluate in a `node:vm` context. `runtime` defines
 * `globalThis.__wfRuntimeFactory(module, exports)`, wf's workflow runtime (`wfkit/workflow`),
 * instantiated once per context. `code` defines `globalThis.__wfBundleFactory(module, exports,
 * require)`; each call of it runs the user's module graph afresh (so module state is per run),
 * getting the runtime from `require('wfkit/workflow')`, and sets `module.exports` to
 * `{ workflows }`.
 */
export interface WorkflowBundle {
  code: string;
  runtime: RuntimeBundle;
  /** JSON source map of `code`; its `sources` are absolute paths (generated modules keep a `wf-…:` name). */
  sourceMap: string;
  /** The name to give `vm.Script` (no line or column offset), so stacks map back through `sourceMap`. */
  filename: string;
  /** The export names of the activities module (its default export excluded). */
  activityNames: string[];
  /** Absolute paths of the user's files in the bundle: not wf's runtime, node_modules or generated. */
  inputs: string[];
  /** The directory that paths in messages are relative to. */
  projectRoot: string;
}

/** An import chain from the workflows entry to a module workflow code may not use. */
export interface ForbiddenImport {
  /** Project-relative files from the workflows entry to the importer, then the specifier as written. */
  chain: string[];
  specifier: string;
  kind: 'builtin' | 'denied';
  hint?: string;
}

/** The workflows could not be bundled; the message lists every problem, each with where and what to do. */
export class WorkflowBundleError extends WfError {
  override name = 'WorkflowBundleError';
  constructor(
    message: string,
    /** esbuild's errors (syntax, unresolved imports), formatted `file:line:column: text`. */
    readonly buildErrors: string[] = [],
    readonly forbiddenImports: ForbiddenImport[] = [],
  ) {
    super('INVALID_ARGUMENT', message);
  }
}

/** wf's workflow runtime as one script (see WorkflowBundle). */
export interface RuntimeBundle {
  code: string;
  filename: string;
}

/** An incremental bundler for hot reload: `build()` again after files change. */
export interface WorkflowBundler {
  build(): Promise<WorkflowBundle>;
  dispose(): Promise<void>;
}

export const BUNDLE_FILENAME = 'wf-workflows.js';
export const BUNDLE_FACTORY_GLOBAL = '__wfBundleFactory';
export const RUNTIME_FILENAME = 'wf-runtime.js';
export const RUNTIME_FACTORY_GLOBAL = '__wfRuntimeFactory';
export const ACTIVITY_REF_GLOBAL = '__wfActivityRef';

const ENTRY = 'wf:entry';
const ENTRY_NS = 'wf-entry';
const ACTIVITIES_NS = 'wf-activities';
/** Marks our own nested `build.resolve` so the catch-all resolver does not recurse. */
const NESTED = Symbol('wf-nested-resolve');

/** Bundles the workflows once. */
export async function bundleWorkflows(options: BundleOptions): Promise<WorkflowBundle> {
  const bundler = await createWorkflowBundler(options);
  try {
    return await bundler.build();
  } finally {
    await bundler.dispose();
  }
}

export function defaultWorkflowRuntimePath(): string {
  for (const candidate of ['../workflow/index.ts', '../workflow/index.js']) {
    const file = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(file)) return file;
  }
  throw new WfError(
    'INTERNAL',
    `wf's workflow runtime is missing next to ${fileURLToPath(import.meta.url)}: reinstall wfkit, and report this if it persists`,
  );
}

export function findProjectRoot(workflowsPath: string): string {
  let dir = dirname(workflowsPath);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const parts = dirname(workflowsPath).split(sep);
  const src = parts.lastIndexOf('src');
  return src > 0 ? parts.slice(0, src).join(sep) || sep : dirname(workflowsPath);
}

const isUnder = (file: string, dir: string): boolean => file.startsWith(dir.endsWith(sep) ? dir : dir + sep);
const inNodeModules = (file: string): boolean => file.split(/[\\/]/).includes('node_modules');

/** Creates an esbuild context for the workflows; each `build()` is an incremental rebuild. */
export async function createWorkflowBundler(options: BundleOptions): Promise<WorkflowBundler> {
  const workflowsPath = resolve(options.workflowsPath);
  const activitiesPath = options.activitiesPath ? resolve(options.activitiesPath) : undefined;
  const runtimePath = resolve(options.workflowRuntimePath ?? defaultWorkflowRuntimePath());
  const projectRoot = resolve(options.projectRoot ?? findProjectRoot(workflowsPath));
  const runtimeDir = dirname(runtimePath);
  const rel = (file: string): string => relativeTo(projectRoot, file);
  // Bundled meanwhile (once per process): the user's build does not wait for it.
  runtimeBundle(runtimePath).catch(() => undefined);

  const missing = [
    ...(existsSync(workflowsPath) ? [] : [`the workflows entry ${rel(workflowsPath)} does not exist`]),
    ...(activitiesPath && !existsSync(activitiesPath)
      ? [`the activities entry ${rel(activitiesPath)} does not exist`]
      : []),
  ];
  if (missing.length) {
    throw new WorkflowBundleError(
      `Cannot bundle workflows: ${missing.join('; ')}. Check the project layout.`,
    );
  }

  // Imports of the activities entry, or of any file beside it when it is an index, become stubs.
  const activitiesScope: { dir: string } | { file: string } | undefined = activitiesPath
    ? basename(activitiesPath, extname(activitiesPath)) === 'index'
      ? { dir: dirname(activitiesPath) }
      : { file: activitiesPath }
    : undefined;
  const isActivityFile = (file: string): boolean => {
    if (!activitiesScope) return false;
    return 'dir' in activitiesScope ? isUnder(file, activitiesScope.dir) : file === activitiesScope.file;
  };

  // Per-build state, reset in onStart.
  let forbidden = new Map<string, { importer: string; specifier: string }>();
  let exportNames = new Map<string, Promise<ExportNames>>();
  const activityExports = (file: string): Promise<ExportNames> => {
    let names = exportNames.get(file);
    if (!names) {
      names = readExportNames(file, projectRoot);
      exportNames.set(file, names);
    }
    return names;
  };

  let runtimeNames: Promise<ExportNames> | undefined;
  const runtimeExports = (): Promise<ExportNames> => {
    runtimeNames ??= readExportNames(runtimePath, projectRoot);
    return runtimeNames;
  };

  const plugin: esbuild.Plugin = {
    name: 'wf-workflows',
    setup(build) {
      build.onStart(() => {
        forbidden = new Map();
        exportNames = new Map();
      });

      build.onResolve({ filter: /^wf:entry$/ }, () => ({ path: ENTRY, namespace: ENTRY_NS }));
      build.onLoad({ filter: /.*/, namespace: ENTRY_NS }, () => ({
        contents: `export * as workflows from ${JSON.stringify(workflowsPath)};\n`,
        resolveDir: projectRoot,
        loader: 'js',
      }));

      // The runtime is not in the bundle: each run's modules get the context's one instance.
      build.onResolve({ filter: /^wfkit\/workflow$/ }, () => ({ path: 'wfkit/workflow', external: true }));
      // Temporal code moved over with its imports left as they were: say which import to change.
      build.onResolve({ filter: /^@temporalio\// }, (args) => ({
        errors: [{ text: temporalImportMessage(args.path) }],
      }));

      const refuse = (args: esbuild.OnResolveArgs): esbuild.OnResolveResult => {
        forbidden.set(`${args.importer}\0${args.path}`, { importer: args.importer, specifier: args.path });
        // External, so the build goes on and the metafile gives every chain; the bundle is refused after.
        return { path: args.path, external: true };
      };
      build.onResolve({ filter: BUILTIN_FILTER }, refuse);
      build.onResolve({ filter: DENIED_FILTER }, refuse);

      // A name imported from wfkit/workflow that it does not export is refused here, with why.
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/, namespace: 'file' }, async (args) => {
        if (inNodeModules(args.path) || isUnder(args.path, runtimeDir) || isActivityFile(args.path)) {
          return undefined;
        }
        const runtime = await runtimeExports();
        if (runtime.errors.length) return undefined;
        const errors = await checkWorkflowImports(args.path, new Set(runtime.names), rel(args.path));
        return errors.length ? { errors } : undefined;
      });

      if (activitiesScope) {
        build.onResolve({ filter: /.*/, namespace: 'file' }, async (args) => {
          if (args.pluginData?.[NESTED] || !args.importer) return undefined;
          if (inNodeModules(args.importer) || isUnder(args.importer, runtimeDir)) return undefined;
          if (isActivityFile(args.importer)) return undefined;
          const result = await build.resolve(args.path, {
            kind: args.kind,
            importer: args.importer,
            resolveDir: args.resolveDir,
            namespace: args.namespace,
            pluginData: { [NESTED]: true },
          });
          // Unresolvable: let esbuild report it, with its location.
          if (result.errors.length || result.external || result.namespace !== 'file') return undefined;
          if (!isActivityFile(result.path)) return undefined;
          return { path: result.path, namespace: ACTIVITIES_NS };
        });
        build.onLoad({ filter: /.*/, namespace: ACTIVITIES_NS }, async (args) => {
          const result = await activityExports(args.path);
          if (result.errors.length) return { errors: result.errors };
          return { contents: activityStub(result.names), loader: 'js' };
        });
      }
    },
  };

  const context = await esbuild.context({
    entryPoints: [ENTRY],
    absWorkingDir: projectRoot,
    outfile: join(projectRoot, BUNDLE_FILENAME),
    bundle: true,
    write: false,
    metafile: true,
    format: 'cjs',
    platform: 'neutral',
    target: 'es2022',
    sourcemap: 'external',
    sourcesContent: true,
    keepNames: true,
    mainFields: ['module', 'main'],
    conditions: ['workflow', 'module', 'import'],
    resolveExtensions: ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json'],
    loader: {
      '.ts': 'ts',
      '.tsx': 'tsx',
      '.mts': 'ts',
      '.cts': 'ts',
      '.js': 'js',
      '.mjs': 'js',
      '.cjs': 'js',
      '.json': 'json',
    },
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
    plugins: [plugin],
  });

  let queue: Promise<unknown> = Promise.resolve();

  async function buildOnce(): Promise<WorkflowBundle> {
    const activityNamesPromise = activitiesPath ? activityExports(activitiesPath) : undefined;
    let result: esbuild.BuildResult<{ write: false; metafile: true }> | undefined;
    let buildErrors: esbuild.Message[] = [];
    try {
      result = (await context.rebuild()) as esbuild.BuildResult<{ write: false; metafile: true }>;
    } catch (error) {
      if (!isBuildFailure(error)) throw error;
      buildErrors = error.errors;
    }
    const activityNames = activityNamesPromise ? await activityNamesPromise : undefined;
    if (activityNames?.errors.length) {
      const seen = new Set(buildErrors.map(messageKey));
      buildErrors.push(...activityNames.errors.filter((m) => !seen.has(messageKey(m))));
    }

    const graph = result ? metafileGraph(result.metafile, projectRoot) : new Map<string, string[]>();
    const violations = [...forbidden.values()]
      .filter((v) => v.importer !== '')
      .map((v): ForbiddenImport => {
        const verdict = forbiddenModule(v.specifier) ?? { kind: 'builtin' as const };
        return {
          chain: [...importChain(graph, rel(workflowsPath), rel(v.importer)), v.specifier],
          specifier: v.specifier,
          kind: verdict.kind,
          ...(verdict.hint ? { hint: verdict.hint } : {}),
        };
      })
      .sort((a, b) => a.chain.join('\0').localeCompare(b.chain.join('\0')));

    if (buildErrors.length || violations.length || !result) {
      const formatted = buildErrors.map((m) => formatMessage(m));
      throw new WorkflowBundleError(
        bundleErrorMessage({
          workflows: rel(workflowsPath),
          activitiesDir: activitiesPath ? rel(dirname(activitiesPath)) : 'src/activities',
          buildErrors: formatted,
          violations,
        }),
        formatted,
        violations,
      );
    }

    const runtime = await runtimeBundle(runtimePath);
    const js = result.outputFiles.find((f) => f.path.endsWith('.js'));
    const map = result.outputFiles.find((f) => f.path.endsWith('.js.map'));
    if (!js || !map) throw new WfError('INTERNAL', 'esbuild returned no workflow bundle: please report this');
    return {
      code: wrapFactory(js.text),
      runtime,
      sourceMap: shiftSourceMap(map.text, projectRoot),
      filename: BUNDLE_FILENAME,
      activityNames: activityNames?.names ?? [],
      inputs: userInputs(graph, rel(workflowsPath), projectRoot, runtimePath),
      projectRoot,
    };
  }

  return {
    build() {
      const next = queue.then(buildOnce, buildOnce);
      queue = next.catch(() => undefined);
      return next;
    },
    async dispose() {
      await queue;
      await context.dispose();
    },
  };
}

const WF_PACKAGE_FOR: Readonly<Record<string, string>> = {
  '@temporalio/workflow': 'wfkit/workflow',
  '@temporalio/common': 'wfkit/workflow',
  '@temporalio/activity': 'wfkit/activity',
  '@temporalio/client': 'wfkit/client',
  '@temporalio/testing': 'wfkit/testing',
};

/** Why an import of Temporal's SDK in workflow code fails, and which wf import replaces it. */
export function temporalImportMessage(specifier: string): string {
  const pkg = specifier.split('/').slice(0, 2).join('/');
  const replacement = Object.hasOwn(WF_PACKAGE_FOR, pkg) ? WF_PACKAGE_FOR[pkg] : undefined;
  return replacement
    ? `${specifier} is Temporal's SDK: in wf, import the same names from '${replacement}' (docs/temporal.md)`
    : `${specifier} is Temporal's SDK and has no counterpart in wf: see docs/temporal.md for what wf provides`;
}

/**
 * The factory wrapper goes on a line of its own, so the source map only needs one more leading
 * `;` (an empty generated line) to stay exact. Strict, as ES modules are: in sloppy mode a
 * stray assignment would create a global on the shared context and leak state between runs.
 */
function wrapFactory(code: string): string {
  return defineFactory(BUNDLE_FACTORY_GLOBAL, 'module, exports, require', code);
}

/**
 * Builtins the workflow runtime and the user's modules read as locals. None of them is replaced by
 * the sandbox's global overrides (which run after both scripts are evaluated): Date, timers, crypto
 * and the like stay global reads, so the code sees the deterministic ones.
 */
const SANDBOX_BUILTINS = [
  'Object',
  'Array',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'Promise',
  'JSON',
  'Math',
  'Number',
  'String',
  'Boolean',
  'Symbol',
  'Error',
  'TypeError',
  'RangeError',
  'Reflect',
] as const;

/**
 * `globalThis[name] = function (params) { body }` on one line before the body, with the builtins as
 * locals of an enclosing function: a global read in a vm context goes through the context's
 * interceptor, about 50 times slower than a local, and the body may still declare names of its own
 * that shadow them.
 */
function defineFactory(name: string, params: string, body: string): string {
  const builtins = SANDBOX_BUILTINS.join(', ');
  const values = SANDBOX_BUILTINS.map((builtin) => `globalThis.${builtin}`).join(', ');
  return `globalThis.${name} = (function (${builtins}) { return function (${params}) { 'use strict';\n${body}\n}; })(${values});\n`;
}

const runtimeBundles = new Map<string, Promise<RuntimeBundle>>();

/** wf's workflow runtime bundled once per process (it changes only with wfkit itself). */
function runtimeBundle(runtimePath: string): Promise<RuntimeBundle> {
  let bundle = runtimeBundles.get(runtimePath);
  if (!bundle) {
    bundle = esbuild
      .build({
        entryPoints: [runtimePath],
        bundle: true,
        write: false,
        format: 'cjs',
        platform: 'neutral',
        target: 'es2022',
        keepNames: true,
        mainFields: ['module', 'main'],
        resolveExtensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
        logLevel: 'silent',
      })
      .then((result) => {
        const js = result.outputFiles[0];
        if (!js)
          throw new WfError('INTERNAL', 'esbuild returned no workflow runtime bundle: please report this');
        return {
          code: defineFactory(RUNTIME_FACTORY_GLOBAL, 'module, exports', js.text),
          filename: RUNTIME_FILENAME,
        };
      });
    bundle.catch(() => runtimeBundles.delete(runtimePath));
    runtimeBundles.set(runtimePath, bundle);
  }
  return bundle;
}

/** Shifts the map one line down (for the wrapper) and makes file sources absolute. */
function shiftSourceMap(json: string, projectRoot: string): string {
  const map = JSON.parse(json) as { sources: string[]; mappings: string; sourceRoot?: string };
  map.sources = map.sources.map((s) =>
    /^[a-z-]+:/.test(s) && !/^[a-zA-Z]:[\\/]/.test(s) ? s : resolve(projectRoot, s),
  );
  map.mappings = `;${map.mappings}`;
  delete map.sourceRoot;
  return JSON.stringify(map);
}

interface ExportNames {
  names: string[];
  errors: esbuild.Message[];
}

/** The export names of an activities file, read with a quick esbuild pass that never runs it. */
async function readExportNames(file: string, projectRoot: string): Promise<ExportNames> {
  try {
    const result = await esbuild.build({
      entryPoints: [file],
      absWorkingDir: projectRoot,
      bundle: true,
      write: false,
      metafile: true,
      format: 'esm',
      platform: 'node',
      // Packages stay unbundled: their code is irrelevant to the names and may be large.
      packages: 'external',
      logLevel: 'silent',
    });
    const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
    const names = (output?.exports ?? []).filter((name) => name !== 'default');
    return { names: [...new Set(names)].sort(), errors: [] };
  } catch (error) {
    if (!isBuildFailure(error)) throw error;
    return { names: [], errors: error.errors };
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const RESERVED = new Set(
  'break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof let new null return static super switch this throw true try typeof var void while with yield await implements interface package private protected public arguments eval'.split(
    ' ',
  ),
);

/** A module with one lazy activity reference per export; no activity code is bundled. */
export function activityStub(names: readonly string[]): string {
  const lines = [`const r = (n) => globalThis.${ACTIVITY_REF_GLOBAL}(n);`];
  names.forEach((name, i) => {
    if (IDENTIFIER.test(name) && !RESERVED.has(name)) {
      lines.push(`export const ${name} = r(${JSON.stringify(name)});`);
    } else {
      lines.push(`const a${i} = r(${JSON.stringify(name)});`, `export { a${i} as ${JSON.stringify(name)} };`);
    }
  });
  return `${lines.join('\n')}\n`;
}

/** Importer → imported keys (project-relative, as esbuild names them), from the metafile. */
function metafileGraph(metafile: esbuild.Metafile, projectRoot: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [key, input] of Object.entries(metafile.inputs)) {
    const from = displayKey(key, projectRoot);
    graph.set(
      from,
      input.imports.filter((i) => !i.external).map((i) => displayKey(i.path, projectRoot)),
    );
  }
  return graph;
}

/** esbuild keys files relative to absWorkingDir with `/`; ours match `relativeTo`. */
function displayKey(key: string, projectRoot: string): string {
  if (/^[a-z-]+:/.test(key) && !/^[a-zA-Z]:[\\/]/.test(key)) return key;
  return relativeTo(projectRoot, resolve(projectRoot, key));
}

/** The shortest chain from `from` to `to` in the import graph; just `[to]` when it is not found. */
function importChain(graph: Map<string, string[]>, from: string, to: string): string[] {
  if (from === to) return [to];
  const parent = new Map<string, string>([[from, from]]);
  const queue = [from];
  while (queue.length) {
    const node = queue.shift()!;
    for (const next of graph.get(node) ?? []) {
      if (parent.has(next)) continue;
      parent.set(next, node);
      if (next === to) {
        const chain = [to];
        for (let at = to; at !== from; ) {
          at = parent.get(at)!;
          chain.unshift(at);
        }
        return chain;
      }
      queue.push(next);
    }
  }
  // Reached only through wf's runtime, or the build failed before the graph was known.
  const viaEntry = [...graph.keys()].find((k) => k.startsWith(`${ENTRY_NS}:`));
  if (viaEntry && viaEntry !== from) {
    const chain = importChain(graph, viaEntry, to);
    if (chain.length > 1) return chain.slice(1);
  }
  return [to];
}

/** Files reachable from the workflows entry without going through wf's runtime or node_modules. */
function userInputs(
  graph: Map<string, string[]>,
  workflows: string,
  projectRoot: string,
  runtimePath: string,
): string[] {
  const runtime = relativeTo(projectRoot, runtimePath);
  const seen = new Set<string>([workflows]);
  const queue = [workflows];
  while (queue.length) {
    for (const next of graph.get(queue.shift()!) ?? []) {
      if (seen.has(next) || next === runtime || inNodeModules(next) || /^[a-z-]+:/.test(next)) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  return [...seen].map((key) => resolve(projectRoot, key)).sort();
}

function isBuildFailure(error: unknown): error is esbuild.BuildFailure {
  return error instanceof Error && Array.isArray((error as Partial<esbuild.BuildFailure>).errors);
}

const messageKey = (m: esbuild.Message): string =>
  `${m.location?.file}:${m.location?.line}:${m.location?.column}:${m.text}`;

/** `src/workflows/index.ts:3:9: Expected ";" but found "y"`, the line, a caret, and esbuild's notes. */
export function formatMessage(message: esbuild.PartialMessage): string {
  const loc = message.location;
  const lines: string[] = [];
  if (loc?.file) {
    // esbuild counts columns from 0; editors and stacks count from 1.
    lines.push(`${loc.file}:${loc.line ?? 0}:${(loc.column ?? 0) + 1}: ${message.text}`);
    if (loc.lineText) {
      const gutter = `    ${loc.line} | `;
      lines.push(`${gutter}${loc.lineText}`);
      lines.push(`${' '.repeat(gutter.length - 2)}| ${' '.repeat(loc.column ?? 0)}^`);
    }
  } else {
    lines.push(message.text ?? 'unknown error');
  }
  for (const note of message.notes ?? []) {
    if (note.text)
      lines.push(
        `    ${note.location?.file ? `${note.location.file}:${note.location.line}: ` : ''}${note.text}`,
      );
  }
  return lines.join('\n');
}

function bundleErrorMessage(parts: {
  workflows: string;
  activitiesDir: string;
  buildErrors: string[];
  violations: ForbiddenImport[];
}): string {
  const sections = [`Cannot bundle the workflows in ${parts.workflows}.`];
  if (parts.buildErrors.length) {
    sections.push(
      `${parts.buildErrors.length === 1 ? 'An error' : `${parts.buildErrors.length} errors`} in the code:\n\n${parts.buildErrors.join('\n\n')}`,
    );
  }
  if (parts.violations.length) {
    const lines = parts.violations.map((v) => `  ${v.chain.join(' → ')}${v.hint ? `  (${v.hint})` : ''}`);
    const advice: string[] = [];
    if (parts.violations.some((v) => v.kind === 'builtin')) {
      advice.push(
        `Workflow code must be deterministic and cannot use Node built-ins: move this code into an activity (${parts.activitiesDir}) and call it with proxyActivities.`,
      );
    }
    if (parts.violations.some((v) => v.kind === 'denied')) {
      advice.push(
        `Some packages cannot run in a workflow (${Object.keys(DENIED_PACKAGES).join(', ')}): do what each hint says.`,
      );
    }
    sections.push(`Workflow code imports modules it cannot use:\n${lines.join('\n')}\n${advice.join('\n')}`);
  }
  return sections.join('\n\n');
}
