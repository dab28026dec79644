/**
 * How a project made by `wf init` depends on wfkit: the published range when wf was installed from
 * the registry; a tarball of this very wf, packed into the project, when wf runs from a checkout
 * (or a global link of one); or whatever `--wfkit <spec>` says.
 */
import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, WfError } from '../common/errors.js';

/** Where the tarball goes in the project, and so its `file:` spec. */
export const VENDOR_DIR = 'vendor';

export type WfkitDependency =
  /** wf came from the registry: the range of its own version. */
  | { kind: 'registry'; spec: string; version: string }
  /** wf runs from a checkout: `npm pack` of it, kept in the project. */
  | { kind: 'tarball'; spec: string; version: string; file: string; checkout: string }
  /** `--wfkit <spec>`, as given (a path made relative to the project). */
  | { kind: 'custom'; spec: string };

export interface ResolveWfkitOptions {
  /** The project being created. */
  projectDir: string;
  /** `--wfkit <spec>`. */
  override?: string;
  /** Where a relative `--wfkit` path is read from. Default: the current directory. */
  cwd?: string;
  /** The wfkit package wf runs from. Default: this installation. */
  packageRoot?: string;
}

/** The root of the wfkit package this code runs from (next to `dist/` or `src/`). */
export function wfkitPackageRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

/** True when `root` was installed by npm (it lies under a node_modules folder), false for a checkout. */
export function isInstalledPackage(root: string): boolean {
  const real = existsSync(root) ? realpathSync(root) : root;
  return real.split(path.sep).includes('node_modules');
}

/** Decides the project's wfkit dependency, packing a tarball into it when wf runs from a checkout. */
export async function resolveWfkitDependency(options: ResolveWfkitOptions): Promise<WfkitDependency> {
  if (options.override !== undefined) return customDependency(options);
  const root = options.packageRoot ?? wfkitPackageRoot();
  const manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
  if (isInstalledPackage(root)) {
    return { kind: 'registry', spec: `^${manifest.version}`, version: manifest.version };
  }
  if (!existsSync(path.join(root, 'dist', 'client', 'index.js'))) {
    throw new WfError(
      'UNAVAILABLE',
      `wf runs from a checkout (${root}) that has no build: run \`npm run build\` there first, or pass --wfkit <spec>`,
    );
  }
  const vendor = path.join(options.projectDir, VENDOR_DIR);
  await mkdir(vendor, { recursive: true });
  const file = await npmPack(root, vendor);
  return {
    kind: 'tarball',
    spec: `file:${VENDOR_DIR}/${file}`,
    version: manifest.version,
    file: `${VENDOR_DIR}/${file}`,
    checkout: realpathSync(root),
  };
}

function customDependency(options: ResolveWfkitOptions): WfkitDependency {
  const given = options.override!.trim();
  if (given === '') {
    throw new InvalidArgumentError(
      '--wfkit is empty: give an npm spec, e.g. ^0.1.0, file:../wf or ./wfkit-0.1.0.tgz',
    );
  }
  const pathLike = /^(file:|\.{1,2}[/\\]|\/|~[/\\]|[a-zA-Z]:[/\\])/.test(given) || given.endsWith('.tgz');
  if (!pathLike) return { kind: 'custom', spec: given };
  // A path as the user typed it (from where they are); npm reads file: specs from the project.
  const target = path.resolve(options.cwd ?? process.cwd(), given.replace(/^file:/, ''));
  if (!existsSync(target)) {
    throw new InvalidArgumentError(`--wfkit ${given}: ${target} does not exist`);
  }
  const relative = path.relative(options.projectDir, target).split(path.sep).join('/');
  return { kind: 'custom', spec: `file:${relative === '' ? '.' : relative}` };
}

/** `npm pack` of `root` into `destination`; returns the tarball's file name. */
function npmPack(root: string, destination: string): Promise<string> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  return new Promise((resolve, reject) => {
    execFile(
      npm,
      ['pack', '--json', '--ignore-scripts', '--pack-destination', destination],
      { cwd: root, shell: process.platform === 'win32', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const fail = (why: string) =>
          reject(
            new WfError(
              'UNAVAILABLE',
              `wf init packs the wf checkout it runs from (${root}) with \`npm pack\`, which ${why}. ` +
                'Fix that, or pass --wfkit <spec> (e.g. --wfkit file:/path/to/wf)',
            ),
          );
        if (error) {
          fail(
            (error as NodeJS.ErrnoException).code === 'ENOENT'
              ? 'was not found on PATH'
              : `failed: ${(stderr || error.message).trim().split('\n').slice(-3).join(' ')}`,
          );
          return;
        }
        try {
          const [packed] = JSON.parse(stdout) as { filename: string }[];
          if (!packed?.filename) throw new Error('no file name');
          resolve(path.basename(packed.filename));
        } catch {
          fail(`printed something other than its JSON report: ${stdout.slice(0, 200)}`);
        }
      },
    );
  });
}
