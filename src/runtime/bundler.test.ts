import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type BundleOptions,
  bundleWorkflows,
  createWorkflowBundler,
  type WorkflowBundle,
  WorkflowBundleError,
} from './bundler.js';
import { formatCallSite, resolveCallSite } from './source-map.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const RUNTIME = `
let counter = 0;
export const runtimeMarker = 'stand-in runtime';
export function nextId() { return ++counter; }
export function fail(message) {
  throw new Error(message);
}
`;

/** Given a temp project with these files (and a stand-in runtime outside it). */
function project(files: Record<string, string>): { root: string; options: BundleOptions } {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'wf-bundler-')));
  dirs.push(base);
  const root = join(base, 'project');
  const all: Record<string, string> = {
    'project/package.json': '{ "name": "demo", "type": "module" }',
    'wf-runtime/index.js': RUNTIME,
    ...Object.fromEntries(Object.entries(files).map(([k, v]) => [`project/${k}`, v])),
  };
  for (const [file, text] of Object.entries(all)) {
    mkdirSync(dirname(join(base, file)), { recursive: true });
    writeFileSync(join(base, file), text);
  }
  return {
    root,
    options: {
      workflowsPath: join(root, 'src/workflows/index.ts'),
      workflowRuntimePath: join(base, 'wf-runtime/index.js'),
    },
  };
}

// The vm boundary is untyped by nature.
// biome-ignore lint/suspicious/noExplicitAny: values from another realm
type Loose = any;

/** Evaluates the bundle in a fresh context; returns the context and a factory caller. */
function evaluate(bundle: WorkflowBundle, globals: Record<string, unknown> = {}) {
  const context = vm.createContext({ ...globals });
  new vm.Script(bundle.runtime.code, { filename: bundle.runtime.filename }).runInContext(context);
  new vm.Script(bundle.code, { filename: bundle.filename }).runInContext(context);
  const runtimeModule = { exports: {} as Loose };
  context.__wfRuntimeFactory(runtimeModule, runtimeModule.exports);
  const require = (id: string) => {
    if (id !== 'wfkit/workflow') throw new Error(`unexpected require(${id})`);
    return runtimeModule.exports;
  };
  const instantiate = (): { workflows: Loose; runtime: Loose } => {
    const module = { exports: {} as Loose };
    context.__wfBundleFactory(module, module.exports, require);
    return { workflows: module.exports.workflows, runtime: runtimeModule.exports };
  };
  return { context, instantiate };
}

async function bundleError(options: BundleOptions): Promise<WorkflowBundleError> {
  const error = await bundleWorkflows(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowBundleError);
  return error as WorkflowBundleError;
}

describe('bundleWorkflows', () => {
  it('gives a factory whose module.exports holds the workflows and the runtime', async () => {
    const { root, options } = project({
      'src/workflows/index.ts': `
        import { nextId } from 'wfkit/workflow';
        export async function hello(): Promise<string> { return 'hello'; }
        export const viaRuntime = (): number => nextId();
      `,
    });
    const bundle = await bundleWorkflows(options);
    expect(bundle.filename).toBe('wf-workflows.js');
    expect(bundle.projectRoot).toBe(root);
    expect(bundle.inputs).toEqual([join(root, 'src/workflows/index.ts')]);

    const { workflows, runtime } = evaluate(bundle).instantiate();
    await expect(workflows.hello()).resolves.toBe('hello');
    expect(runtime.runtimeMarker).toBe('stand-in runtime');
    // Exactly one copy of the runtime: wfkit/workflow and the runtime export share state.
    expect(workflows.viaRuntime()).toBe(1);
    expect(runtime.nextId()).toBe(2);
  });

  it('runs no module code at evaluation, and each factory call gets fresh module state', async () => {
    const { options } = project({
      'src/workflows/index.ts': `
        (globalThis as any).loads = ((globalThis as any).loads ?? 0) + 1;
        let count = 0;
        export async function counter() { return ++count; }
      `,
    });
    const { context, instantiate } = evaluate(await bundleWorkflows(options));
    expect(context.loads).toBeUndefined();

    const first = instantiate().workflows;
    expect(context.loads).toBe(1);
    expect(await first.counter()).toBe(1);
    expect(await first.counter()).toBe(2);
    const second = instantiate().workflows;
    expect(context.loads).toBe(2);
    expect(await second.counter()).toBe(1);
  });

  it('runs workflow code in strict mode, so a stray assignment cannot create a global', async () => {
    const { options } = project({
      'src/workflows/index.ts': `export async function leak() { // @ts-ignore\n  leaked = 1; }`,
    });
    const { context, instantiate } = evaluate(await bundleWorkflows(options));
    await expect(instantiate().workflows.leak()).rejects.toThrow('leaked is not defined');
    expect(context.leaked).toBeUndefined();
  });

  it('replaces only the activities file itself when it is not an index', async () => {
    const { options, root } = project({
      'src/activities.ts': `import fs from 'node:fs';\nexport const ship = async () => fs.existsSync('x');`,
      'src/shared.ts': `export const plain = () => 'real code';`,
      'src/workflows/index.ts': `
        import { ship } from '../activities.js';
        import { plain } from '../shared.js';
        export async function wf() { return [plain(), await ship()]; }
      `,
    });
    const bundle = await bundleWorkflows({ ...options, activitiesPath: join(root, 'src/activities.ts') });
    expect(bundle.activityNames).toEqual(['ship']);
    expect(bundle.inputs).toEqual([join(root, 'src/shared.ts'), join(root, 'src/workflows/index.ts')]);
    const { instantiate } = evaluate(bundle, { __wfActivityRef: (n: string) => async () => n });
    expect(await instantiate().workflows.wf()).toEqual(['real code', 'ship']);
  });

  it('replaces activity imports with references and never bundles activity code', async () => {
    const { options, root } = project({
      'src/activities/index.ts': `
        import { readFileSync } from 'node:fs';
        export async function shipOrder(id: string) { return readFileSync(id, 'utf8'); }
        export { chargeCard } from './payments.js';
        export default function ignored() {}
      `,
      'src/activities/payments.ts': `
        import { createHash } from 'node:crypto';
        export async function chargeCard(n: number) { return createHash('sha1').update(String(n)).digest('hex'); }
      `,
      'src/workflows/index.ts': `
        import { shipOrder } from '../activities/index.js';
        import { chargeCard } from '../activities/payments.js';
        export async function order() { return [await shipOrder('o-1'), await chargeCard(5)]; }
      `,
    });
    const bundle = await bundleWorkflows({
      ...options,
      activitiesPath: join(root, 'src/activities/index.ts'),
    });
    expect(bundle.activityNames).toEqual(['chargeCard', 'shipOrder']);
    expect(bundle.code).not.toContain('readFileSync');
    expect(bundle.code).not.toContain('createHash');
    expect(bundle.inputs).toEqual([join(root, 'src/workflows/index.ts')]);

    const requested: string[] = [];
    const { instantiate } = evaluate(bundle, {
      __wfActivityRef: (name: string) => {
        requested.push(name);
        return async (...args: unknown[]) => ({ activity: name, args });
      },
    });
    const { workflows } = instantiate();
    expect(await workflows.order()).toEqual([
      { activity: 'shipOrder', args: ['o-1'] },
      { activity: 'chargeCard', args: [5] },
    ]);
    expect(requested).toContain('shipOrder');
    expect(requested).toContain('chargeCard');
  });

  it('accepts `import type` of activities, which is erased', async () => {
    const { options } = project({
      'src/activities/index.ts': `
        import fs from 'node:fs';
        export async function shipOrder(id: string): Promise<boolean> { return fs.existsSync(id); }
      `,
      'src/workflows/index.ts': `
        import type * as activities from '../activities/index.js';
        import type { shipOrder } from '../activities/index.js';
        type Ship = typeof shipOrder;
        export async function typed(): Promise<keyof typeof activities> { const s: Ship | undefined = undefined; return s ?? 'shipOrder'; }
      `,
    });
    // No activitiesPath: the activities file must not even be reached.
    const bundle = await bundleWorkflows(options);
    await expect(evaluate(bundle).instantiate().workflows.typed()).resolves.toBe('shipOrder');
  });

  it('refuses Node built-ins imported directly or transitively, naming each import chain', async () => {
    const { options } = project({
      'src/workflows/util.ts': `
        import { randomUUID } from 'node:crypto';
        export const id = () => randomUUID();
      `,
      'src/workflows/index.ts': `
        import fs from 'fs';
        import { id } from './util.js';
        export async function wf() { return fs.existsSync(id()); }
      `,
    });
    const error = await bundleError(options);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('src/workflows/index.ts → fs');
    expect(error.message).toContain('src/workflows/index.ts → src/workflows/util.ts → node:crypto');
    expect(error.message).toContain(
      'Workflow code must be deterministic and cannot use Node built-ins: move this code into an activity (src/activities) and call it with proxyActivities.',
    );
    expect(error.forbiddenImports.map((v) => v.chain)).toEqual([
      ['src/workflows/index.ts', 'fs'],
      ['src/workflows/index.ts', 'src/workflows/util.ts', 'node:crypto'],
    ]);
  });

  it('bundles packages by their module field with NODE_ENV production, and follows chains through them', async () => {
    const { options, root } = project({
      'node_modules/dual/package.json': '{ "name": "dual", "main": "main.cjs", "module": "mod.js" }',
      'node_modules/dual/main.cjs': `module.exports = { which: () => 'main' };`,
      'node_modules/dual/mod.js': `export const which = () => process.env.NODE_ENV === 'production' ? 'module' : 'dev';`,
      'node_modules/leaky/package.json': '{ "name": "leaky", "main": "index.js" }',
      'node_modules/leaky/index.js': `const os = require('os'); module.exports = () => os.hostname();`,
      'src/workflows/index.ts': `
        import { which } from 'dual';
        export async function wf() { return which(); }
      `,
      'src/workflows/bad.ts': `import leaky from 'leaky';\nexport const bad = () => leaky();`,
    });
    const bundle = await bundleWorkflows(options);
    expect(bundle.inputs).toEqual([join(root, 'src/workflows/index.ts')]);
    expect(await evaluate(bundle).instantiate().workflows.wf()).toBe('module');

    writeFileSync(
      join(root, 'src/workflows/index.ts'),
      `export { bad } from './bad.js';\nexport const ok = 1;`,
    );
    const error = await bundleError(options);
    expect(error.message).toContain(
      'src/workflows/index.ts → src/workflows/bad.ts → node_modules/leaky/index.js → os',
    );
  });

  it('refuses denied packages with a hint', async () => {
    const { options } = project({
      'src/workflows/index.ts': `
        import { v4 } from 'uuid';
        export async function wf() { return v4(); }
      `,
    });
    const error = await bundleError(options);
    expect(error.message).toContain('src/workflows/index.ts → uuid  (use uuid4() from wfkit/workflow)');
  });

  it('reports a syntax error with file:line:column', async () => {
    const { options } = project({
      'src/workflows/index.ts': `export async function ok() { return 1; }
export async function broken() {
  const x y = 2;
}
`,
    });
    const error = await bundleError(options);
    expect(error.message).toContain('src/workflows/index.ts:3:11: Expected ";" but found "y"');
    expect(error.message).toContain('const x y = 2;');
  });

  it('reports an unresolved import with its location', async () => {
    const { options } = project({
      'src/workflows/index.ts': `import { nope } from './missing.js';\nexport const wf = async () => nope;\n`,
    });
    const error = await bundleError(options);
    expect(error.message).toMatch(/src\/workflows\/index\.ts:1:22: Could not resolve "\.\/missing\.js"/);
  });

  it('keeps function names, even when esbuild renames a binding', async () => {
    const { options } = project({
      'src/workflows/other.ts': `
        function greet() { return 'other'; }
        export const otherGreet = () => greet();
      `,
      'src/workflows/index.ts': `
        export { otherGreet } from './other.js';
        export async function greet() { return 'index'; }
        export const arrow = async () => 1;
      `,
    });
    const bundle = await bundleWorkflows(options);
    const { workflows } = evaluate(bundle).instantiate();
    expect(workflows.greet.name).toBe('greet');
    expect(workflows.arrow.name).toBe('arrow');
    expect(workflows.otherGreet()).toBe('other');
    expect(bundle.code).toMatch(/function greet2\(/);
  });

  it('bundles a small project in tens of milliseconds once warm', async () => {
    const { options } = project({
      'src/workflows/index.ts': `export async function a() { return 1; }`,
    });
    const bundler = await createWorkflowBundler(options);
    try {
      await bundler.build();
      const started = performance.now();
      await bundler.build();
      expect(performance.now() - started).toBeLessThan(200);
    } finally {
      await bundler.dispose();
    }
  });
});

describe('createWorkflowBundler', () => {
  it('rebuilds after a change and still refuses a forbidden import on every build', async () => {
    const { root, options } = project({
      'src/workflows/index.ts': `export async function a() { return 1; }`,
    });
    const bundler = await createWorkflowBundler(options);
    try {
      expect(
        await evaluate(await bundler.build())
          .instantiate()
          .workflows.a(),
      ).toBe(1);
      writeFileSync(
        join(root, 'src/workflows/index.ts'),
        `import fs from 'node:fs';\nexport async function a() { return fs.existsSync('x'); }`,
      );
      for (let i = 0; i < 2; i++) {
        await expect(bundler.build()).rejects.toThrow('src/workflows/index.ts → node:fs');
      }
      writeFileSync(join(root, 'src/workflows/index.ts'), `export async function a() { return 2; }`);
      expect(
        await evaluate(await bundler.build())
          .instantiate()
          .workflows.a(),
      ).toBe(2);
    } finally {
      await bundler.dispose();
    }
  });
});

describe('resolveCallSite', () => {
  it('maps a stack from inside the vm to the user line, skipping runtime frames', async () => {
    const { root, options } = project({
      'src/workflows/steps.ts': `import { fail } from 'wfkit/workflow';

export function step(n: number): number {
  if (n > 1) {
    fail('too big');
  }
  return n;
}
`,
      'src/workflows/index.ts': `import { step } from './steps.js';

export async function run() {
  return step(2);
}
`,
    });
    const bundle = await bundleWorkflows(options);
    const { workflows } = evaluate(bundle).instantiate();
    const error = await workflows.run().catch((e: Error) => e);
    expect(error.stack).toContain('wf-workflows.js:');

    const site = resolveCallSite(bundle, error.stack);
    expect(site).toEqual({ file: join(root, 'src/workflows/steps.ts'), line: 5, column: 5 });
    expect(formatCallSite(bundle, site!)).toBe('src/workflows/steps.ts:5:5');
  });

  it('maps a throw on the first line of a user file', async () => {
    const { root, options } = project({
      'src/workflows/index.ts': `export async function boom() { throw new Error('x'); }\n`,
    });
    const bundle = await bundleWorkflows(options);
    const error = await evaluate(bundle)
      .instantiate()
      .workflows.boom()
      .catch((e: Error) => e);
    const site = resolveCallSite(bundle, error.stack);
    expect(site).toMatchObject({ file: join(root, 'src/workflows/index.ts'), line: 1 });
    expect(site!.column).toBeGreaterThanOrEqual(32);
  });

  it('returns undefined when no frame is in user code', async () => {
    const { options } = project({ 'src/workflows/index.ts': `export const a = 1;\n` });
    const bundle = await bundleWorkflows(options);
    expect(resolveCallSite(bundle, 'Error: x\n    at foo (other.js:1:1)\n    at wf-workflows.js:1:1')).toBe(
      undefined,
    );
  });
});
