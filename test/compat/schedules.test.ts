/**
 * Temporal's Schedules on wf: `client.schedule` under wfkit/testing (virtual time) and `wf schedule`
 * through the built `wf dev` (with `wf time skip`), durable across a kill -9.
 */
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ScheduleOverlapPolicy } from 'wfkit/client';
import { TestWorkflowEnvironment } from 'wfkit/testing';
import { built, killAll, makeProject, removeTempDirs, spawnDev, wf } from '../acceptance/support.js';

const project = fileURLToPath(new URL('./schedule-project', import.meta.url));
const workflowsPath = path.join(project, 'src/workflows/index.ts');
const START = Date.parse('2026-03-01T00:00:00.000Z');

describe('schedules under wfkit/testing', () => {
  let env: TestWorkflowEnvironment | undefined;
  afterEach(async () => {
    await env?.teardown();
    env = undefined;
  });

  it('fire at their interval, skip an overlapping fire, trigger, pause, backfill and delete', async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ workflowsPath, startTime: START });
    const handle = await env.client.schedule.create({
      scheduleId: 'every-10m',
      spec: { intervals: [{ every: '10 minutes' }] },
      action: { type: 'startWorkflow', workflowType: 'tick', workflowId: 'tick', args: ['hello'] },
    });
    await env.sleep('35 minutes');
    let described = await handle.describe();
    expect(described.recentActions.map((a) => [a.scheduledAt, a.outcome])).toEqual([
      ['2026-03-01T00:10:00.000Z', 'started'],
      ['2026-03-01T00:20:00.000Z', 'started'],
      ['2026-03-01T00:30:00.000Z', 'started'],
    ]);
    expect(described.nextActionTimes[0]).toBe('2026-03-01T00:40:00.000Z');
    expect(await env.client.getHandle('tick-2026-03-01T00:20:00.000Z').result()).toBe(
      'hello tick-2026-03-01T00:20:00.000Z',
    );
    // Backfill the first half hour: fires already taken are not taken twice.
    const backfilled = await handle.backfill([
      { start: '2026-03-01T00:00:00Z', end: '2026-03-01T00:30:00Z' },
    ]);
    expect(backfilled.map((a) => a.outcome)).toEqual([
      'started',
      'already-started',
      'already-started',
      'already-started',
    ]);
    expect((await handle.trigger()).outcome).toBe('started');
    await handle.pause('maintenance');
    await env.sleep('1 hour');
    described = await handle.describe();
    expect(described.state).toEqual({ paused: true, note: 'maintenance' });
    expect(described.recentActions).toHaveLength(8);
    await handle.delete();
    await expect(handle.describe()).rejects.toThrow(/no schedule "every-10m"/);
  });

  it('skips a fire while the previous run is open (SKIP), or keeps one for later (BUFFER_ONE)', async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ workflowsPath, startTime: START });
    const skip = await env.client.schedule.create({
      scheduleId: 'skip',
      spec: { intervals: [{ every: '10 minutes' }] },
      action: { type: 'startWorkflow', workflowType: 'slowTick', workflowId: 'slow', args: [25] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    const buffer = await env.client.schedule.create({
      scheduleId: 'buffer',
      spec: { intervals: [{ every: '10 minutes' }] },
      action: { type: 'startWorkflow', workflowType: 'slowTick', workflowId: 'buffered', args: [15] },
      policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE },
    });
    await env.sleep('40 minutes');
    expect((await skip.describe()).recentActions.map((a) => a.outcome)).toEqual([
      'started',
      'skipped',
      'skipped',
      'started',
    ]);
    const buffered = (await buffer.describe()).recentActions.map((a) => a.outcome);
    expect(buffered.slice(0, 3)).toEqual(['started', 'buffered', 'started']);
  });

  it('refuses a bad spec with the reason', async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ workflowsPath, startTime: START });
    await expect(
      env.client.schedule.create({
        scheduleId: 'bad',
        spec: { cronExpressions: ['every tuesday'] },
        action: { type: 'startWorkflow', workflowType: 'tick', workflowId: 't' },
      }),
    ).rejects.toThrow(/cron expression "every tuesday"/);
    await expect(
      env.client.schedule.create({
        scheduleId: 'bad',
        spec: { cronExpressions: ['0 * * * *'] },
        action: { type: 'startWorkflow', workflowType: 'nope', workflowId: 't' },
      }),
    ).rejects.toThrow(/no workflow "nope"/);
  });
});

describe.skipIf(!built)('wf schedule through wf dev (needs a build)', () => {
  afterEach(killAll);
  afterAll(removeTempDirs);

  it('fires on the dev clock (wf time skip), survives kill -9, and is managed from the CLI', async () => {
    const dir = await makeProject({});
    await cp(path.join(project, 'src'), path.join(dir, 'src'), { recursive: true });
    let dev = await spawnDev(dir, { args: ['--plain', '--no-watch'] });
    const cli = (...args: string[]) => wf([...args, '--address', dev.url]);
    const created = await cli(
      'schedule',
      'create',
      '-s',
      'hourly',
      '--cron',
      '0 * * * *',
      '--type',
      'tick',
      '-w',
      'tick',
      '--input',
      '"cron"',
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/Created schedule hourly; next: /);
    expect((await cli('time', 'skip', '3h')).code).toBe(0);
    const started = async () => {
      const listed = await cli('list', '--type', 'tick', '--output', 'json');
      return listed.stdout.split('\n').filter(Boolean).length;
    };
    await expect.poll(started, { timeout: 10_000 }).toBe(3);
    await dev.kill('SIGKILL');
    dev = await spawnDev(dir, { port: dev.port, args: ['--plain', '--no-watch'] });
    expect((await cli('time', 'skip', '1h')).code).toBe(0);
    await expect.poll(started, { timeout: 10_000 }).toBe(4);
    const described = await cli('schedule', 'describe', '-s', 'hourly', '--output', 'json');
    expect((JSON.parse(described.stdout) as { recentActions: unknown[] }).recentActions).toHaveLength(4);
    expect((await cli('schedule', 'pause', '-s', 'hourly', '--note', 'quiet')).code).toBe(0);
    expect((await cli('schedule', 'list')).stdout).toMatch(/hourly\s+PAUSED\s+tick/);
    expect((await cli('schedule', 'delete', '-s', 'hourly')).code).toBe(0);
    const gone = await cli('schedule', 'describe', '-s', 'hourly');
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/no schedule "hourly"/);
  });
});
