/**
 * wfkit from a CommonJS TypeScript project (`module: node16`, Temporal's default setup): the types
 * of every entry resolve through the `require` condition (no TS1479), and the compiled `require`
 * calls load the same modules as `import` (one copy: instanceof and the activity Context hold).
 * Needs `npm run build`.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { built, makeProject, removeTempDirs, root } from '../acceptance/support.js';

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

const files: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'cjs-app', private: true, type: 'commonjs' }),
  'tsconfig.json': JSON.stringify({
    compilerOptions: {
      module: 'node16',
      moduleResolution: 'node16',
      target: 'es2022',
      strict: true,
      outDir: 'lib',
      rootDir: 'src',
      skipLibCheck: false,
      types: ['node'],
      typeRoots: [path.join(root, 'node_modules', '@types')],
    },
    include: ['src'],
  }),
  'src/workflows.ts': `
import { defineSignal, proxyActivities, setHandler, sleep } from 'wfkit/workflow';
import type * as activities from './activities';
const { greet } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });
export const poke = defineSignal('poke');
export async function hello(name: string): Promise<string> {
  setHandler(poke, () => undefined);
  await sleep('1 day');
  return await greet(name);
}
`,
  'src/activities.ts': `
import { Context } from 'wfkit/activity';
export async function greet(name: string): Promise<string> {
  return \`hello \${name} (\${Context.current().info.activityType})\`;
}
`,
  'src/main.cts': `
import path = require('node:path');
import wfclient = require('wfkit/client');
import { TestWorkflowEnvironment } from 'wfkit/testing';
import * as activities from './activities';
import type { hello } from './workflows';

async function main(): Promise<void> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    workflowsPath: path.resolve(__dirname, '../src/workflows.ts'),
    activities,
  });
  const { Client, Connection, WorkflowUpdateStage } = wfclient;
  const client = new Client({ connection: Connection.fromService(env.client.service) });
  const result: string = await client.workflow.execute<typeof hello>('hello', { workflowId: 'w1', args: ['ada'] });
  const esm: unknown = (await import('wfkit/client')).ApplicationFailure;
  console.log(JSON.stringify({ result, stage: WorkflowUpdateStage.ACCEPTED, sameClass: esm === wfclient.ApplicationFailure }));
  await env.teardown();
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
`,
};

afterAll(removeTempDirs);

describe.skipIf(!built)('a CommonJS TypeScript project (needs a build)', () => {
  it('type-checks with module node16 and runs with require()', async () => {
    const project = await makeProject(files);
    await mkdir(path.join(project, 'node_modules'));
    await symlink(root, path.join(project, 'node_modules', 'wfkit'), 'dir');

    const compiled = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' });
    expect(compiled.stdout + compiled.stderr).toBe('');
    expect(compiled.status).toBe(0);

    const ran = spawnSync(process.execPath, [path.join(project, 'lib', 'main.cjs')], {
      cwd: project,
      encoding: 'utf8',
    });
    expect(ran.stderr).toBe('');
    expect(JSON.parse(ran.stdout)).toEqual({
      result: 'hello ada (greet)',
      stage: 'ACCEPTED',
      sameClass: true,
    });
  });
});
