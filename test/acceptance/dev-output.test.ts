import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  bin,
  built,
  freePort,
  killAll,
  makeProject,
  removeTempDirs,
  spawnDev,
  until,
  wf,
} from './support.js';

/** A job that reports `{ done, total }` to the `progress` query; step i waits for the file go-i. */
const jobProject = (flagDir: string) => ({
  'src/activities/index.ts': `
import { existsSync } from 'node:fs';
export async function step(i: number): Promise<number> {
  while (!existsSync(${JSON.stringify(flagDir)} + '/go-' + i)) await new Promise((r) => setTimeout(r, 20));
  return i;
}
`,
  'src/workflows/index.ts': `
import { defineQuery, log, proxyActivities, setHandler } from 'wfkit/workflow';
import type * as activities from '../activities/index.js';

const { step } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });
export const progress = defineQuery<{ done: number; total: number }>('progress');

export async function job(total: number): Promise<number> {
  let done = 0;
  setHandler(progress, () => ({ done, total }));
  for (let i = 0; i < total; i++) {
    await step(i);
    done++;
    log.info('step done', { done });
  }
  return done;
}
`,
});

const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!built)('acceptance: what wf dev prints (needs a build)', () => {
  const procs: ChildProcess[] = [];
  afterEach(() => {
    for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
  });
  afterAll(async () => {
    await killAll();
    await removeTempDirs();
  });

  it('--log-format json prints one JSON object per line: messages, every event, workflow log lines', async () => {
    const dir = await makeProject({});
    const project = await makeProject(jobProject(dir));
    const dev = await spawnDev(project, { args: ['--log-format', 'json'], expectExit: true });
    await dev.waitFor(/Press Ctrl\+C to stop/);
    for (let i = 0; i < 2; i++) await writeFile(path.join(dir, `go-${i}`), '');
    const done = await wf(['execute', '--type', 'job', '-w', 'json-1', '--input', '2'], {
      WF_ADDRESS: dev.url,
    });
    expect(done).toMatchObject({ code: 0, stdout: '2\n' });
    await dev.waitFor(/"type":"WorkflowExecutionCompleted"/);
    await dev.kill('SIGTERM');
    const lines = dev
      .output()
      .split('\n')
      .filter((l) => l !== '');
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.every((r) => typeof r.ts === 'string' && typeof r.kind === 'string')).toBe(true);
    expect(records.find((r) => r.kind === 'message')?.message).toMatch(/^wf dev listening on http:/);
    const events = records.filter((r) => r.kind === 'event' && r.workflowId === 'json-1');
    expect(events.map((r) => (r.event as { type: string }).type)).toEqual([
      'WorkflowExecutionStarted',
      'ActivityTaskScheduled',
      'ActivityTaskStarted',
      'ActivityTaskCompleted',
      'ActivityTaskScheduled',
      'ActivityTaskStarted',
      'ActivityTaskCompleted',
      'WorkflowExecutionCompleted',
    ]);
    const logs = records.filter((r) => r.kind === 'log');
    expect(logs).toEqual([
      expect.objectContaining({
        level: 'info',
        message: 'step done',
        attributes: { done: 1 },
        workflowId: 'json-1',
      }),
      expect.objectContaining({
        level: 'info',
        message: 'step done',
        attributes: { done: 2 },
        workflowId: 'json-1',
      }),
    ]);
  }, 60_000);

  it.skipIf(!hasScript)(
    'in a terminal, the live view draws a progress bar that moves with the run, and the clock offset',
    async () => {
      const dir = await makeProject({});
      const project = await makeProject(jobProject(dir));
      const port = await freePort();
      // `script` gives wf dev a pseudo-terminal, as a person's shell would.
      const command = [process.execPath, bin, 'dev', '--project', project, '--port', String(port)]
        .map((a) => `'${a}'`)
        .join(' ');
      const env: Record<string, string | undefined> = {
        ...process.env,
        NODE_ENV: 'production',
        COLUMNS: '160',
      };
      delete env.CI;
      delete env.WF_ADDRESS;
      const proc = spawn('script', ['-qfec', `stty cols 160 rows 40; ${command}`, '/dev/null'], {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      procs.push(proc);
      let screen = '';
      proc.stdout.on('data', (chunk: Buffer) => {
        screen += chunk.toString('utf8');
      });
      const address = { WF_ADDRESS: `127.0.0.1:${port}` };
      await until(() => screen.includes('Ctrl+C to stop'), 20_000, 'the live view');
      expect((await wf(['start', '--type', 'job', '-w', 'bar-1', '--input', '4'], address)).code).toBe(0);
      await writeFile(path.join(dir, 'go-0'), '');
      await until(() => /\[███░+\]\s+25% 1\/4/.test(screen), 15_000, 'the bar at 1/4');
      await writeFile(path.join(dir, 'go-1'), '');
      await until(() => /\[██████░+\]\s+50% 2\/4/.test(screen), 15_000, 'the bar at 2/4');
      // The clock offset shows once time is skipped.
      expect((await wf(['time', 'skip', '1h'], address)).code).toBe(0);
      await until(() => screen.includes('time: 1h ahead of real time'), 15_000, 'the offset');
      // Ctrl+C, as a person would stop it.
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.stdin.write('\x03');
      await exited;
      expect(screen).toContain('stopping: open runs continue at the next `wf dev`');
    },
    60_000,
  );
});
