import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashProject } from './fixtures.js';
import { built, type DevServer, killAll, makeProject, removeTempDirs, spawnDev, wf } from './support.js';

describe.skipIf(!built)('acceptance: signals, queries, updates and workflow-ID dedup (needs a build)', () => {
  let dev: DevServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    dev = await spawnDev(await makeProject(crashProject()));
    env = { WF_ADDRESS: dev.url };
  });
  afterAll(async () => {
    await killAll();
    await removeTempDirs();
  });

  it('approval: query while waiting, approve by signal, time out when left alone, reject a bad update', async () => {
    const [a, b] = await Promise.all([
      // Long enough for the CLI round trips below; the other run keeps the default 2 s.
      wf(['start', '--type', 'approval', '-w', 'approve-yes', '--input', '"60s"'], env),
      wf(['start', '--type', 'approval', '-w', 'approve-no'], env),
    ]);
    expect(a).toMatchObject({ code: 0, stderr: '' });
    expect(b).toMatchObject({ code: 0, stderr: '' });

    const [query, badUpdate, goodUpdate] = await Promise.all([
      wf(['query', '-w', 'approve-yes', '--name', 'progress', '-o', 'json'], env),
      wf(['update', '-w', 'approve-yes', '--name', 'setLimit', '--input', '-5'], env),
      wf(['update', '-w', 'approve-yes', '--name', 'setLimit', '--input', '7', '-o', 'json'], env),
    ]);
    expect(query).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(query.stdout)).toMatchObject({ state: 'waiting for approval', approvedBy: null });

    expect(badUpdate.code).not.toBe(0);
    expect(badUpdate.code).toBe(1);
    expect(badUpdate.stdout).toBe('');
    expect(badUpdate.stderr).toMatch(/limit must be a positive number, got -5/);
    expect(goodUpdate).toMatchObject({ code: 0, stdout: '7\n', stderr: '' });

    const signal = await wf(['signal', '-w', 'approve-yes', '--name', 'approve', '--input', '"ada"'], env);
    expect(signal).toMatchObject({ code: 0, stdout: 'Signal approve sent to approve-yes\n' });

    const [yes, no, afterQuery] = await Promise.all([
      wf(['result', '-w', 'approve-yes', '-o', 'json'], env),
      wf(['result', '-w', 'approve-no', '-o', 'json'], env),
      wf(['show', '-w', 'approve-yes', '-o', 'json'], env),
    ]);
    expect(yes).toMatchObject({ code: 0, stdout: '"approved by ada"\n' });
    expect(no).toMatchObject({ code: 0, stdout: '"timed out"\n' });
    // The accepted update reached the workflow; the rejected one is recorded as rejected only.
    const events = afterQuery.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; args?: unknown[]; failure?: { message: string } });
    expect(events.filter((e) => e.type === 'WorkflowSignaled')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'WorkflowUpdateAccepted').map((e) => e.args)).toEqual([[7]]);
    expect(events.filter((e) => e.type === 'WorkflowUpdateRejected').map((e) => e.failure?.message)).toEqual([
      'limit must be a positive number, got -5',
    ]);

    // A closed run still answers queries, from its final state; a signal to it is refused.
    const [finalQuery, lateSignal] = await Promise.all([
      wf(['query', '-w', 'approve-no', '--name', 'progress', '-o', 'json'], env),
      wf(['signal', '-w', 'approve-no', '--name', 'approve', '--input', '"bob"'], env),
    ]);
    expect(JSON.parse(finalQuery.stdout)).toEqual({ state: 'timed out', approvedBy: null, limit: 0 });
    expect(lateSignal.code).toBe(1);
    expect(lateSignal.stderr).toMatch(/^Error: .*approve-no/);
  });

  it('workflow-ID dedup: running → already running; USE_EXISTING → same run; REJECT_DUPLICATE after close', async () => {
    const first = await wf(['start', '--type', 'waiting', '-w', 'dedup-1', '-o', 'json'], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const { runId } = JSON.parse(first.stdout) as { runId: string };

    const [again, useExisting] = await Promise.all([
      wf(['start', '--type', 'waiting', '-w', 'dedup-1'], env),
      wf(
        ['start', '--type', 'waiting', '-w', 'dedup-1', '--id-conflict-policy', 'USE_EXISTING', '-o', 'json'],
        env,
      ),
    ]);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/already running/);
    expect(useExisting).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(useExisting.stdout)).toEqual({ workflowId: 'dedup-1', runId });

    expect((await wf(['signal', '-w', 'dedup-1', '--name', 'go'], env)).code).toBe(0);
    expect(await wf(['result', '-w', 'dedup-1', '-o', 'json'], env)).toMatchObject({
      code: 0,
      stdout: '"released"\n',
    });

    const rejected = await wf(
      ['start', '--type', 'waiting', '-w', 'dedup-1', '--id-reuse-policy', 'REJECT_DUPLICATE'],
      env,
    );
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toBe('');
    expect(rejected.stderr).toMatch(/^Error: .*dedup-1/);
    expect(rejected.stderr).toMatch(/REJECT_DUPLICATE|reuse policy|already/i);

    // The default reuse policy, ALLOW_DUPLICATE, starts a new run.
    const allowed = await wf(
      ['start', '--type', 'quick', '-w', 'dedup-1', '--input', '"x"', '-o', 'json'],
      env,
    );
    expect(allowed).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(allowed.stdout).runId).not.toBe(runId);

    const list = await wf(['list', '-w', 'dedup-1', '-o', 'json'], env);
    const runs = list.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { runId: string; status: string; workflowType: string });
    expect(runs.find((r) => r.runId === runId)).toMatchObject({ status: 'COMPLETED' });
    expect(runs).toHaveLength(2); // the waiting run and the `quick` run allowed by ALLOW_DUPLICATE
  });
});
