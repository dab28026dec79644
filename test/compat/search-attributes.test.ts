/**
 * Search attributes as Temporal code uses them: set at start and by the workflow, read back with
 * workflowInfo(), recorded in the history, and used to filter listings — under wfkit/testing and
 * through the built `wf dev`.
 */

import { cp } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { connect } from 'wfkit/client';
import { runReplayHistory, TestWorkflowEnvironment } from 'wfkit/testing';
import { built, killAll, makeProject, removeTempDirs, spawnDev, wf } from '../acceptance/support.js';
import { shipped, tracked } from './search-project/src/workflows/index.js';

const project = fileURLToPath(new URL('./search-project', import.meta.url));
const workflowsPath = path.join(project, 'src/workflows/index.ts');

describe('search attributes under wfkit/testing', () => {
  let env: TestWorkflowEnvironment | undefined;
  afterEach(async () => {
    await env?.teardown();
    env = undefined;
  });

  it('are set at start and by the workflow, filter listings, and replay', async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ workflowsPath });
    const handle = await env.client.start(tracked, {
      workflowId: 'order-1',
      args: ['c-1'],
      searchAttributes: { Region: ['eu'] },
    });
    await env.client.start(tracked, { workflowId: 'order-2', args: ['c-2'] });
    const ids = async (query: string) => {
      const found: string[] = [];
      for await (const run of env!.client.list({ query })) found.push(run.workflowId);
      return found.sort();
    };
    await expect.poll(() => ids('CustomerId = "c-1" AND ExecutionStatus = "Running"')).toEqual(['order-1']);
    expect(await ids('Priority >= 2')).toEqual(['order-1', 'order-2']);
    expect(await ids('Region = "eu" OR CustomerId IN ("c-2")')).toEqual(['order-1', 'order-2']);
    expect(await ids('NOT CustomerId = "c-1"')).toEqual(['order-2']);
    await handle.signal(shipped);
    expect(await handle.result()).toEqual({ all: { Region: ['eu'], CustomerId: ['c-1'] }, customer: 'c-1' });
    expect(await ids('CustomerId = "c-1" AND ExecutionStatus = "Running"')).toEqual([]);
    expect(await ids('CustomerId = "c-1" AND ExecutionStatus = "Completed"')).toEqual(['order-1']);
    const history = await env.history('order-1');
    expect(history.filter((e) => e.type === 'UpsertWorkflowSearchAttributes')).toHaveLength(3);
    await runReplayHistory({ workflowsPath }, history);
  });

  it('says what is wrong with a query', async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ workflowsPath });
    const listing = async () => {
      for await (const _ of env!.client.list({ query: 'CustomerId = ' })) break;
    };
    await expect(listing()).rejects.toThrow(/list query: expected a value.*position/);
  });
});

describe.skipIf(!built)('search attributes through wf dev (needs a build)', () => {
  afterEach(killAll);
  afterAll(removeTempDirs);

  it('wf list --query filters on them', async () => {
    const dir = await makeProject({});
    await cp(path.join(project, 'src'), path.join(dir, 'src'), { recursive: true });
    const dev = await spawnDev(dir, { args: ['--plain', '--no-watch'] });
    const client = connect({ address: dev.url });
    try {
      await client.start('tracked', {
        workflowId: 'order-1',
        args: ['c-1'],
        searchAttributes: { Region: 'eu' },
      });
      await client.start('tracked', { workflowId: 'order-2', args: ['c-2'] });
      const listed = async (query: string) => {
        const out = await wf(['list', '--address', dev.url, '--query', query, '--output', 'json']);
        expect(out.code, out.stderr).toBe(0);
        return out.stdout
          .split('\n')
          .filter(Boolean)
          .map((line) => (JSON.parse(line) as { workflowId: string }).workflowId);
      };
      await expect
        .poll(() => listed('CustomerId = "c-1" AND ExecutionStatus = "Running"'))
        .toEqual(['order-1']);
      expect(await listed('Region = "eu"')).toEqual(['order-1']);
      const bad = await wf(['list', '--address', dev.url, '--query', 'CustomerId ~ 1']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/list query/);
    } finally {
      await client.close();
    }
  });
});
