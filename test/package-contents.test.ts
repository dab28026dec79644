import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = existsSync(`${root}/dist/commands/index.js`);

let packed: string[] | undefined;

/** The files `npm pack` would put in the package, as package-relative paths. */
function packedFiles(): string[] {
  if (packed) return packed;
  const res = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`npm pack --dry-run failed: ${res.stderr}`);
  const [pack] = JSON.parse(res.stdout) as { files: { path: string }[] }[];
  packed = pack!.files.map((f) => f.path);
  return packed;
}

if (!built)
  console.warn('test/package-contents.test.ts: dist/ is missing, skipping. Run `npm run build` first.');

describe.skipIf(!built)('the published package (needs `npm run build`)', () => {
  it("ships wf's modules and no test, fixture or test helper of its own", () => {
    const dist = packedFiles().filter((p) => p.startsWith('dist/'));
    expect(dist).toContain('dist/commands/index.js');
    expect(dist).toContain('dist/testing/index.js');
    const testOnly = dist.filter((p) =>
      /(^|\/)(__fixtures__|fixtures|test|tests)\/|\.test\.|(^|\/)test-helpers\./.test(p),
    );
    expect(testOnly).toEqual([]);
  });

  it('ships the web UI bundled for the browser (scripts/build-ui.js), not its sources', () => {
    const files = packedFiles();
    expect(files).toContain('dist/ui-assets/app.js');
    expect(files).toContain('dist/ui-assets/app.css');
    expect(files.filter((p) => p.startsWith('dist/webui/'))).toEqual([]);
  });

  it('ships no module that is no longer in src/ (the build starts from an empty dist/)', () => {
    const stale = packedFiles()
      .filter((p) => p.startsWith('dist/') && !p.startsWith('dist/ui-assets/') && p.endsWith('.js'))
      .filter((p) => {
        const base = `${root}/src/${p.slice('dist/'.length, -'.js'.length)}`;
        return !existsSync(`${base}.ts`) && !existsSync(`${base}.tsx`);
      });
    expect(stale).toEqual([]);
  });
});
