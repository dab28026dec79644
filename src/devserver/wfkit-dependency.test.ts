import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isInstalledPackage, resolveWfkitDependency } from './wfkit-dependency.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wf-dep-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function fakePackage(root: string, version = '1.2.3'): Promise<string> {
  await mkdir(root, { recursive: true });
  await writeFile(path.join(root, 'package.json'), JSON.stringify({ name: 'wfkit', version }));
  return root;
}

describe('the wfkit dependency of a new project', () => {
  it('is the published range when wf was installed from the registry', async () => {
    const base = await tempDir();
    const root = await fakePackage(path.join(base, 'lib', 'node_modules', 'wfkit'));
    expect(isInstalledPackage(root)).toBe(true);
    expect(await resolveWfkitDependency({ projectDir: path.join(base, 'app'), packageRoot: root })).toEqual({
      kind: 'registry',
      spec: '^1.2.3',
      version: '1.2.3',
    });
  });

  it('refuses to pack a checkout that was never built, and says what to do', async () => {
    const base = await tempDir();
    const root = await fakePackage(path.join(base, 'wf'));
    expect(isInstalledPackage(root)).toBe(false);
    await expect(
      resolveWfkitDependency({ projectDir: path.join(base, 'app'), packageRoot: root }),
    ).rejects.toThrow(/has no build: run `npm run build` there first, or pass --wfkit <spec>/);
  });

  it('takes --wfkit as given, with paths made relative to the project', async () => {
    const base = await tempDir();
    await fakePackage(path.join(base, 'wf'));
    const projectDir = path.join(base, 'apps', 'app');
    const custom = (override: string) => resolveWfkitDependency({ projectDir, override, cwd: base });
    expect(await custom('^0.2.0')).toEqual({ kind: 'custom', spec: '^0.2.0' });
    expect(await custom('file:./wf')).toEqual({ kind: 'custom', spec: 'file:../../wf' });
    expect(await custom('./wf')).toEqual({ kind: 'custom', spec: 'file:../../wf' });
    await expect(custom('./nowhere')).rejects.toThrow(/--wfkit \.\/nowhere: .*nowhere does not exist/);
    await expect(custom(' ')).rejects.toThrow(/--wfkit is empty/);
  });
});
