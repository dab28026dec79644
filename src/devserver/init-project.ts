import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../common/errors.js';
import { resolveWfkitDependency, type WfkitDependency } from './wfkit-dependency.js';

/** What `wf init` tells a user about each template: what it shows and how to start a first run. */
export interface TemplateInfo {
  name: string;
  summary: string;
  /** The exported workflow function a first run starts. */
  workflowType: string;
  workflowId: string;
  /** The first run's argument, as JSON. */
  input: string;
  /** Commands to try while the first run is open (signals, queries, cancel). */
  tryNext: string[];
}

export const TEMPLATES: readonly TemplateInfo[] = [
  {
    name: 'saga',
    summary: 'book a trip (flight, hotel, car); on failure, compensations run in reverse',
    workflowType: 'bookTrip',
    workflowId: 'trip-1',
    input: JSON.stringify({
      tripId: 'trip-1',
      traveller: 'Ada Lovelace',
      destination: 'Lisbon',
      nights: 3,
    }),
    tryNext: ['npx wf query --workflow-id trip-1 --name status', 'npx wf result --workflow-id trip-1'],
  },
  {
    name: 'background-job',
    summary: 'a long job in heartbeating batches, with a progress query, clean cancel and continue-as-new',
    workflowType: 'processItems',
    workflowId: 'job-1',
    input: JSON.stringify({ jobId: 'job-1', totalItems: 200, batchSize: 10 }),
    tryNext: ['npx wf query --workflow-id job-1 --name progress', 'npx wf cancel --workflow-id job-1'],
  },
  {
    name: 'approval',
    summary: 'an agent drafts a proposal, then waits up to 3 days for a human to approve or reject it',
    workflowType: 'approvalWorkflow',
    workflowId: 'approval-1',
    input: JSON.stringify({ requestId: 'approval-1', topic: 'Raise the Q3 ads budget', requester: 'ada' }),
    tryNext: [
      'npx wf query --workflow-id approval-1 --name status',
      `npx wf update --workflow-id approval-1 --name requestChanges --input '"Cite the Q2 numbers"'`,
      `npx wf signal --workflow-id approval-1 --name approve --input '"grace"'`,
    ],
  },
  {
    name: 'cron',
    summary: 'a job on a cron schedule, retried with backoff, its outcomes recorded, continued as new',
    workflowType: 'cronWorkflow',
    workflowId: 'report-cron',
    input: JSON.stringify({ schedule: '* * * * *', job: 'daily-report', maxRuns: 3 }),
    tryNext: [
      'npx wf query --workflow-id report-cron --name recentRuns',
      'npx wf cancel --workflow-id report-cron',
    ],
  },
];

export type TemplateName = string;

export interface InitProjectOptions {
  /** The directory to create (or fill). */
  dir: string;
  template: TemplateName;
  /** package.json's name. Default: the directory's name, made npm-safe. */
  projectName?: string;
  /** Write into a non-empty directory, overwriting files with the same names. */
  force?: boolean;
  /** Where the templates live. Default: the `templates/` folder of this package. */
  templatesDir?: string;
  /** The wfkit dependency's npm spec (`--wfkit`). Default: see resolveWfkitDependency. */
  wfkit?: string;
  /** The wfkit package to depend on when no spec is given. Default: the one running. */
  wfkitRoot?: string;
}

export interface InitProjectResult {
  dir: string;
  projectName: string;
  template: TemplateInfo;
  /** Paths written, relative to `dir`, sorted. */
  files: string[];
  /** What to run next, one command a line. */
  nextSteps: string[];
  /** How the project depends on wfkit. */
  wfkit: WfkitDependency;
}

/** The `templates/` folder shipped with wf: next to `src/` when run from source, next to `dist/` when built. */
export function defaultTemplatesDir(): string {
  return fileURLToPath(new URL('../../templates/', import.meta.url));
}

/** The template's info, or an error that lists the templates there are. */
export function findTemplate(name: string): TemplateInfo {
  const info = TEMPLATES.find((t) => t.name === name);
  if (!info) {
    throw new InvalidArgumentError(
      `unknown template ${JSON.stringify(name)}: choose one of ${TEMPLATES.map((t) => t.name).join(', ')}`,
    );
  }
  return info;
}

/** npm package names are lower case, URL-safe and at most 214 characters. */
export function toPackageName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|[-]+$/g, '');
  return (cleaned || 'wf-project').slice(0, 214);
}

// npm drops dotfiles such as .gitignore from published packages, so templates keep them without the dot.
const RENAMES: Record<string, string> = { gitignore: '.gitignore' };
/** Files in which `__PROJECT_NAME__` becomes the project's name. */
const NAMED_FILES = ['package.json', 'README.md'];

/**
 * Creates a project from a template: copies `templates/<template>/` into `dir`, puts the project name
 * into package.json and restores dotfiles. Refuses a non-empty directory unless `force` is set.
 */
export async function initProject(options: InitProjectOptions): Promise<InitProjectResult> {
  const template = findTemplate(options.template);
  const source = join(options.templatesDir ?? defaultTemplatesDir(), template.name);
  if (!existsSync(source)) {
    throw new Error(
      `the ${template.name} template is missing from ${source}: wf's installation is incomplete`,
    );
  }
  const dir = resolve(options.dir);
  const existing = existsSync(dir) ? await readdir(dir) : [];
  if (existing.length > 0 && !options.force) {
    throw new InvalidArgumentError(
      `${options.dir} is not empty (${existing.length} entries): choose a new directory, or pass --force to write the template into it (files with the same names are overwritten)`,
    );
  }
  const projectName = toPackageName(options.projectName ?? basename(dir));
  const created = !existsSync(dir);
  await mkdir(dir, { recursive: true });
  let wfkit: WfkitDependency;
  try {
    await cp(source, dir, {
      recursive: true,
      force: true,
      filter: (path) => !/(^|[/\\])(node_modules|\.wf)$/.test(path),
    });
    for (const [from, to] of Object.entries(RENAMES)) {
      if (existsSync(join(dir, from))) {
        await rm(join(dir, to), { force: true });
        await rename(join(dir, from), join(dir, to));
      }
    }
    for (const file of NAMED_FILES) {
      const path = join(dir, file);
      if (!existsSync(path)) continue;
      await writeFile(path, (await readFile(path, 'utf8')).replaceAll('__PROJECT_NAME__', projectName));
    }
    wfkit = await resolveWfkitDependency({
      projectDir: dir,
      ...(options.wfkit === undefined ? {} : { override: options.wfkit }),
      ...(options.wfkitRoot === undefined ? {} : { packageRoot: options.wfkitRoot }),
    });
    await setWfkitDependency(dir, wfkit);
  } catch (error) {
    // Nothing half-made is left behind in a directory this call created.
    if (created) await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const files = (await listFiles(source)).map((f) => {
    const path = relative(source, f);
    return RENAMES[path] ?? path;
  });
  if (wfkit.kind === 'tarball') files.push(wfkit.file);
  files.sort();
  return { dir, projectName, template, files, nextSteps: nextSteps(options.dir, template), wfkit };
}

/** Writes the wfkit spec into package.json and says in the README where wfkit comes from, and why. */
async function setWfkitDependency(dir: string, wfkit: WfkitDependency): Promise<void> {
  const manifestPath = join(dir, 'package.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  manifest.dependencies = { ...manifest.dependencies, wfkit: wfkit.spec };
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  const readme = join(dir, 'README.md');
  if (existsSync(readme)) {
    const text = await readFile(readme, 'utf8');
    await writeFile(readme, `${text.trimEnd()}\n\n${wfkitReadmeSection(wfkit)}`);
  }
}

/** The README section on the wfkit dependency. */
export function wfkitReadmeSection(wfkit: WfkitDependency): string {
  const title = '## Where wfkit comes from\n\n';
  switch (wfkit.kind) {
    case 'registry':
      return (
        `${title}\`wfkit\` is installed from the npm registry (\`"wfkit": "${wfkit.spec}"\` in package.json), and\n` +
        '`npx wf` runs the `wf` of that installation. Upgrade it with `npm install wfkit@latest`.\n'
      );
    case 'tarball':
      return (
        `${title}This project was made by a \`wf\` running from a source checkout (${wfkit.checkout}), so\n` +
        `\`wf init\` packed that wfkit ${wfkit.version} with \`npm pack\` into \`${wfkit.file}\`, and\n` +
        `package.json depends on it (\`"wfkit": "${wfkit.spec}"\`). A tarball, not a \`file:\` link to the\n` +
        'checkout, because the project must not change or break when the checkout moves, is rebuilt, or\n' +
        'is half-built: `npm install` copies the tarball into node_modules like any package (its own\n' +
        'dependencies come from the registry), CI installs it from the repository (commit it with\n' +
        'package-lock.json), and `npx wf` runs the `wf` inside node_modules/.bin, the same version the\n' +
        'tests import.\n\n' +
        'To move to a newer wf, run `npm pack` in the checkout and `npm install /path/to/wfkit-<version>.tgz`\n' +
        '(or, once wfkit is published, `npm install wfkit@latest`); then delete the old tarball.\n'
      );
    case 'custom':
      return `${title}package.json depends on \`"wfkit": "${wfkit.spec}"\`, as \`wf init --wfkit\` was told.\n`;
    default:
      return wfkit satisfies never;
  }
}

/** The commands that take a fresh project to its first durable run. */
export function nextSteps(dir: string, template: TemplateInfo): string[] {
  // As the user typed it: a path relative to where they are, or the absolute one they gave.
  const cd = dir;
  return [
    `cd ${quoteArg(cd)} && npm install && npm test`,
    'npx wf dev                 # in one terminal: the dev server, live view of runs',
    `npx wf start --type ${template.workflowType} --workflow-id ${template.workflowId} --input '${template.input}'`,
    ...template.tryNext,
  ];
}

function quoteArg(arg: string): string {
  return /^[\w./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else out.push(path);
  }
  return out;
}
