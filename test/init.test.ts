import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'run.js');
const built = existsSync(join(root, 'dist', 'commands', 'init.js'));
const TEMPLATES = ['saga', 'background-job', 'approval', 'cron'] as const;
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

function run(cwd: string, file: string, args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [file, ...args],
      { cwd, env: { ...process.env, NO_COLOR: '1', NODE_ENV: 'production', CI: 'true' }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const wf = (cwd: string, ...args: string[]) => run(cwd, bin, args);

/**
 * Stands in for `npm install` (wfkit is not published from here): wfkit is this repository, the
 * dev tools are its own, and a template's other dependencies come from its node_modules too.
 */
async function linkDependencies(project: string): Promise<void> {
  const modules = join(project, 'node_modules');
  await mkdir(join(modules, '@types'), { recursive: true });
  await symlink(root, join(modules, 'wfkit'), 'dir');
  for (const name of ['vitest', 'typescript', '@types/node']) {
    await symlink(join(root, 'node_modules', name), join(modules, name), 'dir');
  }
  const manifest = JSON.parse(await readFile(join(project, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const require = createRequire(join(root, 'package.json'));
  for (const name of Object.keys(manifest.dependencies)) {
    if (name === 'wfkit') continue;
    // The package's folder, found the way Node finds it (so NODE_PATH works for a local check too).
    let entry: string;
    try {
      entry = require.resolve(`${name}/package.json`);
    } catch {
      throw new Error(`${name} (a dependency of a template) is not installed here: run npm install`);
    }
    await symlink(dirname(entry), join(modules, name), 'dir');
  }
}

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

    it('passes its own tests, replays its histories and typechecks', async () => {
      const dir = projectDir();
      await linkDependencies(dir);
      const tests = await run(dir, join(root, 'node_modules', 'vitest', 'vitest.mjs'), ['run']);
      expect(tests.code, tests.stdout + tests.stderr).toBe(0);
      const replay = await wf(dir, 'replay', 'test/histories');
      expect(replay.code, replay.stdout + replay.stderr).toBe(0);
      expect(replay.stdout).toMatch(/(\d+) of \1 histories replayed/);
      const tsc = await run(dir, join(root, 'node_modules', 'typescript', 'bin', 'tsc'), [
        '--noEmit',
        '-p',
        '.',
      ]);
      expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
    }, 60_000);
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
    const result = await wf(tmp, 'init', 'forced', '--force', '--template', 'approval');
    expect(result.code).toBe(0);
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')).name).toBe('forced');
  });

  it('defaults to the saga template without a terminal', async () => {
    const result = await wf(tmp, 'init', 'default-one');
    expect(result.code).toBe(0);
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
