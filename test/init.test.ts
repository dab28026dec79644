import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'run.js');
const built = existsSync(join(root, 'dist', 'commands', 'init.js'));
// cron first: it is the one installed for real, whose node_modules the others reuse.
const TEMPLATES = ['cron', 'saga', 'background-job', 'approval'] as const;
const WORKFLOW_TYPES: Record<string, string> = {
  saga: 'bookTrip',
  'background-job': 'processItems',
  approval: 'approvalWorkflow',
  cron: 'cronWorkflow',
};

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of a user's shell: no npm_* variables of the npm that runs this suite. */
// (Not NODE_ENV=production: npm install would then leave out the devDependencies.)
const userEnv = Object.fromEntries(
  Object.entries({ ...process.env, NO_COLOR: '1', CI: 'true' }).filter(
    ([k]) => !k.toLowerCase().startsWith('npm_'),
  ),
);

function spawnIn(
  cwd: string,
  command: string,
  args: string[],
  timeout = 120_000,
  env: Record<string, string> = {},
): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: { ...userEnv, ...env }, timeout, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// Outside production oclif looks for TypeScript sources and warns when it finds none.
const wf = (cwd: string, ...args: string[]) =>
  spawnIn(cwd, process.execPath, [bin, ...args], 60_000, { NODE_ENV: 'production' });
/** npm as a user runs it (the registry is reachable; npm's cache makes installs quick). */
const npm = (cwd: string, ...args: string[]) => spawnIn(cwd, 'npm', args, 240_000);

/** The template installed for real with `npm install`; the others reuse its node_modules. */
const INSTALLED = 'cron';

if (!built)
  console.warn('test/init.test.ts: dist/ is missing, skipping wf init tests. Run `npm run build` first.');

describe.skipIf(!built)('wf init (needs `npm run build`)', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'wf-init-'));
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  describe.each(TEMPLATES)('the %s template', (template) => {
    const projectDir = () => join(tmp, `my-${template}`);

    it('writes a complete project, names it after its directory and prints next steps', async () => {
      const result = await wf(tmp, 'init', `my-${template}`, '--template', template);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const dir = projectDir();
      for (const file of [
        'package.json',
        'tsconfig.json',
        '.gitignore',
        'README.md',
        'src/workflows/index.ts',
        'src/activities/index.ts',
        '.github/workflows/ci.yml',
      ]) {
        expect(existsSync(join(dir, file)), file).toBe(true);
      }
      expect(existsSync(join(dir, 'gitignore'))).toBe(false);
      const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
      expect(manifest.name).toBe(`my-${template}`);
      expect(manifest.scripts).toMatchObject({ test: 'vitest run', replay: 'wf replay test/histories' });
      expect(await readFile(join(dir, '.gitignore'), 'utf8')).toContain('.wf');
      expect(await readFile(join(dir, 'README.md'), 'utf8')).toMatch(new RegExp(`^# my-${template}: `));
      expect(await readFile(join(dir, '.github/workflows/ci.yml'), 'utf8')).toContain(
        'npx wf replay test/histories',
      );
      expect(result.stdout).toContain(`cd my-${template} && npm install && npm test`);
      expect(result.stdout).toContain('npx wf dev');
      expect(result.stdout).toMatch(
        new RegExp(`npx wf start --type ${WORKFLOW_TYPES[template]} --workflow-id \\S+ --input '\\{`),
      );
      // The generated workflows export the type the next steps start.
      expect(await readFile(join(dir, 'src/workflows/index.ts'), 'utf8')).toContain(
        `export async function ${WORKFLOW_TYPES[template]}(`,
      );
    });

    it('installs with npm install, passes npm test and npx wf replay, and typechecks', async () => {
      const dir = projectDir();
      const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      };
      // Run from this checkout, wf init packed this wf into the project: no link back to the checkout.
      expect(manifest.dependencies.wfkit).toBe('file:vendor/wfkit-0.1.0.tgz');
      expect(existsSync(join(dir, 'vendor', 'wfkit-0.1.0.tgz'))).toBe(true);
      expect(await readFile(join(dir, 'README.md'), 'utf8')).toMatch(
        /## Where wfkit comes from[\s\S]*A tarball, not a `file:` link to the\ncheckout, because/,
      );
      if (template === INSTALLED) {
        const install = await npm(dir, 'install', '--no-audit', '--no-fund');
        expect(install.code, install.stdout + install.stderr).toBe(0);
        expect(install.stderr).not.toMatch(/install-scripts/);
        // A real copy, as for any package: moving or rebuilding the checkout cannot break it.
        expect((await lstat(join(dir, 'node_modules', 'wfkit'))).isSymbolicLink()).toBe(false);
        expect(existsSync(join(dir, 'node_modules', 'wfkit', 'dist', 'testing', 'index.js'))).toBe(true);
        expect(await readFile(join(dir, 'package-lock.json'), 'utf8')).not.toContain(root);
      } else {
        // Cheaper: the installed project's node_modules, after checking it has every dependency.
        const installed = join(tmp, `my-${INSTALLED}`, 'node_modules');
        for (const name of Object.keys(manifest.dependencies)) {
          expect(existsSync(join(installed, name, 'package.json')), name).toBe(true);
        }
        await symlink(installed, join(dir, 'node_modules'), 'dir');
      }
      const tests = await npm(dir, 'test');
      expect(tests.code, tests.stdout + tests.stderr).toBe(0);
      const replay = await spawnIn(dir, 'npx', ['wf', 'replay', 'test/histories']);
      expect(replay.code, replay.stdout + replay.stderr).toBe(0);
      expect(replay.stdout).toMatch(/(\d+) of \1 histories replayed/);
      const tsc = await npm(dir, 'run', 'typecheck');
      expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
    }, 300_000);
  });

  it('refuses a non-empty directory with exit 2 and says how to proceed', async () => {
    const dir = join(tmp, 'taken');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const result = await wf(tmp, 'init', 'taken');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('taken is not empty');
    expect(result.stderr).toContain('--force');
    expect(existsSync(join(dir, 'package.json'))).toBe(false);
  });

  it('writes into a non-empty directory with --force, keeping other files', async () => {
    const dir = join(tmp, 'forced');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const result = await wf(tmp, 'init', 'forced', '--force', '--template', 'approval', '--wfkit', '^0.1.0');
    expect(result.code).toBe(0);
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    expect(manifest.name).toBe('forced');
    expect(manifest.dependencies.wfkit).toBe('^0.1.0');
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toContain('as `wf init --wfkit` was told');
  });

  it('defaults to the saga template without a terminal', async () => {
    await writeFile(join(tmp, 'default-wfkit.tgz'), '');
    const result = await wf(tmp, 'init', 'default-one', '--wfkit', './default-wfkit.tgz');
    expect(result.code).toBe(0);
    // --wfkit paths are read from where the user is, and written relative to the project.
    const manifest = JSON.parse(await readFile(join(tmp, 'default-one', 'package.json'), 'utf8'));
    expect(manifest.dependencies.wfkit).toBe('file:../default-wfkit.tgz');
    expect(existsSync(join(tmp, 'default-one', 'vendor'))).toBe(false);
    expect(result.stdout).toContain('from the saga template');
    expect(result.stdout).toContain('npx wf start --type bookTrip');
  });

  it('exits 2 for an unknown template, listing the templates', async () => {
    const result = await wf(tmp, 'init', 'nope', '--template', 'kanban');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown template "kanban"');
    for (const name of TEMPLATES) expect(result.stderr).toContain(name);
    expect(existsSync(join(tmp, 'nope'))).toBe(false);
  });
});
