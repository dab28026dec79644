import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { built, jsonLines, killAll, makeProject, removeTempDirs, spawnDev, wf } from './support.js';

const DAY = 86_400_000;

/** A human-in-the-loop workflow: it waits three days for an approval, then sends a reminder. */
const project = {
  'src/activities/index.ts': `
export async function remind(who: string): Promise<string> {
  return 'reminded ' + who;
}
`,
  'src/workflows/index.ts': `
import { condition, defineSignal, proxyActivities, setHandler, sleep } from 'wfkit/workflow';
import type * as activities from '../activities/index.js';

const { remind } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });
export const approve = defineSignal<[string]>('approve');

export async function approval(who: string): Promise<{ outcome: string; waitedMs: number }> {
  const start = Date.now();
  let approvedBy: string | undefined;
  setHandler(approve, (name) => {
    approvedBy = name;
  });
  if (await condition(() => approvedBy !== undefined, '3 days')) {
    return { outcome: 'approved by ' + approvedBy, waitedMs: Date.now() - start };
  }
  return { outcome: await remind(who), waitedMs: Date.now() - start };
}

export async function twoNaps(): Promise<number> {
  const start = Date.now();
  await sleep('1 day');
  await sleep('2 days');
  return Date.now() - start;
}
`,
};

describe.skipIf(!built)('acceptance: time control in wf dev (needs a build)', () => {
  afterAll(async () => {
    await killAll();
    await removeTempDirs();
  });

  it('wf time skip moves workflow time and timers, survives a restart, and the history replays', async () => {
    const dir = await makeProject(project);
    let dev = await spawnDev(dir);
    const env = { WF_ADDRESS: dev.url };

    expect((await wf(['start', '--type', 'approval', '-w', 'ap-1', '--input', '"ada"'], env)).code).toBe(0);
    const skipped = await wf(['time', 'skip', '3d'], env);
    expect(skipped).toMatchObject({ code: 0, stderr: '' });
    expect(skipped.stdout).toMatch(/^Skipped 3d: the dev server's time is \S+ \(3d ahead of real time\)/);

    const result = await wf(['result', '-w', 'ap-1', '-o', 'json'], env);
    expect(result.code).toBe(0);
    const { outcome, waitedMs } = JSON.parse(result.stdout) as { outcome: string; waitedMs: number };
    expect(outcome).toBe('reminded ada');
    // The workflow saw three days pass.
    expect(waitedMs).toBeGreaterThanOrEqual(3 * DAY);

    // A restart keeps the offset: it is in the store.
    await dev.kill('SIGTERM');
    const clockFile = JSON.parse(await readFile(path.join(dir, '.wf', 'clock.json'), 'utf8')) as {
      offsetMs: number;
    };
    expect(clockFile.offsetMs).toBe(3 * DAY);
    dev = await spawnDev(dir);
    expect(dev.output()).toMatch(/time: +3d ahead of real time/);
    const after = await wf(['time'], { WF_ADDRESS: dev.url });
    expect(after.stdout).toMatch(/^offset: 3d ahead of real time$/m);

    // The history records the time the workflow saw, so it replays exactly.
    const history = path.join(dir, 'ap-1.jsonl');
    expect((await wf(['export', '-w', 'ap-1', '--file', history], { WF_ADDRESS: dev.url })).code).toBe(0);
    const events = jsonLines<{ type: string; eventTime: string; fireAt?: string }>(
      await readFile(history, 'utf8'),
    );
    const started = events.find((e) => e.type === 'TimerStarted')!;
    const fired = events.find((e) => e.type === 'TimerFired')!;
    expect(Date.parse(fired.eventTime)).toBeGreaterThanOrEqual(Date.parse(started.fireAt!));
    const replay = await wf(['replay', history], {}, dir);
    expect(replay).toMatchObject({ code: 0 });
    await dev.kill('SIGTERM');
  }, 90_000);

  it('wf timer fire fires one pending timer of one run now, and says which ones are pending otherwise', async () => {
    const dir = await makeProject(project);
    const dev = await spawnDev(dir);
    const env = { WF_ADDRESS: dev.url };
    expect((await wf(['start', '--type', 'twoNaps', '-w', 'naps'], env)).code).toBe(0);

    const wrong = await wf(['timer', 'fire', '-w', 'naps', '--seq', '9'], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/no pending timer with seq 9; its pending timers: seq 1 \(fires /);

    const first = await wf(['timer', 'fire', '-w', 'naps', '-o', 'json'], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(first.stdout)).toMatchObject({ workflowId: 'naps', seq: 1 });
    // The second sleep's timer is armed by the time the first firing is acknowledged.
    const second = await wf(['timer', 'fire', '-w', 'naps'], env);
    expect(second.stdout).toMatch(/^Fired timer 2 of naps at \S+ \(it was due \S+\)$/m);

    const result = await wf(['result', '-w', 'naps'], env);
    expect(result.code).toBe(0);
    // Fired early: the workflow saw only the real time that passed, and the history says so.
    expect(Number(result.stdout.trim())).toBeLessThan(DAY);
    // Firing a timer does not move the clock.
    expect(JSON.parse((await wf(['time', '-o', 'json'], env)).stdout)).toMatchObject({ offsetMs: 0 });
    await dev.kill('SIGTERM');
  }, 90_000);
});
