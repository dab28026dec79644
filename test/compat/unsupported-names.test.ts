/**
 * Names of @temporalio/workflow that wf does not provide are refused when the workflows are
 * bundled, each with why and what to use: under wfkit/testing and under the built `wf dev`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestWorkflowEnvironment } from 'wfkit/testing';
import * as workflow from 'wfkit/workflow';
import { UNSUPPORTED_WORKFLOW_NAMES } from '../../src/runtime/unsupported-workflow-names.js';
import { built, killAll, makeProject, removeTempDirs, root, spawnDev } from '../acceptance/support.js';

const WORKFLOWS = `import {
  condition,
  defineSignal,
  setHandler,
  upsertMemo,
  type WorkflowInfo,
} from 'wfkit/workflow';
import * as wf from 'wfkit/workflow';

const done = defineSignal('done');

export async function tagged(info?: WorkflowInfo): Promise<void> {
  let finished = false;
  setHandler(done, () => {
    finished = true;
  });
  upsertMemo({ CustomerId: 'c-1' });
  wf.metricMeter.createCounter('tags').add(1);
  await condition(() => finished);
  return void info;
}
`;

const TYPO = `import { sleeep } from 'wfkit/workflow';
export async function typo(): Promise<void> {
  await sleeep('1s');
}
`;

afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

describe('names wf does not provide', () => {
  it('are refused when the bundle is built, with the file, line and reason; type-only imports are fine', async () => {
    const project = await makeProject({
      'package.json': '{"type":"module"}',
      'src/workflows/index.ts': WORKFLOWS,
    });
    const error = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath: path.join(project, 'src/workflows/index.ts'),
    }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.name).toBe('WorkflowBundleError');
    expect(error?.message).toMatch(
      /src\/workflows\/index\.ts:5:\d+: upsertMemo is not supported by wf: in wf the memo is set at start only/,
    );
    expect(error?.message).toMatch(/metricMeter is not supported by wf: wf records no metrics/);
    expect(error?.message).not.toContain('WorkflowInfo');
  });

  it('a name that neither wf nor Temporal has is refused as not exported', async () => {
    const project = await makeProject({
      'package.json': '{"type":"module"}',
      'src/workflows/index.ts': TYPO,
    });
    const error = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath: path.join(project, 'src/workflows/index.ts'),
    }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).toMatch(
      /src\/workflows\/index\.ts:1:\d+: sleeep is not exported by wfkit\/workflow/,
    );
  });

  it('every refused name is one wfkit/workflow really lacks, and docs/temporal.md lists it', async () => {
    const docs = await readFile(path.join(root, 'docs', 'temporal.md'), 'utf8');
    for (const name of Object.keys(UNSUPPORTED_WORKFLOW_NAMES)) {
      expect(Object.keys(workflow)).not.toContain(name);
      expect(docs, `docs/temporal.md should list ${name}`).toContain(`\`${name}\``);
    }
  });

  it.skipIf(!built)('wf dev refuses to start with the reason (needs a build)', async () => {
    const project = await makeProject({ 'src/workflows/index.ts': WORKFLOWS });
    const dev = await spawnDev(project, { expectExit: true });
    expect(await dev.exited).not.toBe(0);
    expect(dev.output()).toMatch(
      /src\/workflows\/index\.ts:5:\d+: upsertMemo is not supported by wf: in wf the memo is set at start only/,
    );
    expect(dev.output()).not.toMatch(/No matching export|void 0/);
  });
});

describe('imports of Temporal packages left unchanged', () => {
  it('are refused with the wf import that replaces them', async () => {
    const project = await makeProject({
      'package.json': '{"type":"module"}',
      'src/workflows/index.ts': `import { sleep } from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
export async function unchanged(): Promise<void> {
  await sleep('1s');
  throw ApplicationFailure.nonRetryable('x');
}
`,
    });
    const error = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath: path.join(project, 'src/workflows/index.ts'),
    }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).toMatch(
      /src\/workflows\/index\.ts:1:\d+: @temporalio\/workflow is Temporal's SDK: in wf, import the same names from 'wfkit\/workflow'/,
    );
    expect(error?.message).toMatch(
      /src\/workflows\/index\.ts:2:\d+: @temporalio\/common is Temporal's SDK: in wf, import the same names from 'wfkit\/workflow'/,
    );
  });
});
