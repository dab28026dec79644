import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { crashProject } from './fixtures.js';
import {
  built,
  jsonLines,
  killAll,
  makeProject,
  readRunFiles,
  removeTempDirs,
  spawnDev,
  until,
  wf,
} from './support.js';

interface Execution {
  name: string;
  key: string;
  attempt: number;
}

interface Event {
  eventId: number;
  eventTime: string;
  type: string;
  seq?: number;
  activityId?: string;
  activityType?: string;
  args?: unknown[];
  fireAt?: string;
}

const executions = (file: string): Execution[] =>
  existsSync(file) ? jsonLines<Execution>(readFileSync(file, 'utf8')) : [];

describe.skipIf(!built)('acceptance: wf dev survives kill -9 (needs a build)', () => {
  afterEach(killAll);
  afterAll(removeTempDirs);

  it('kill -9 during an activity, right after one, in a timer and waiting for a signal: all resume', async () => {
    const project = await makeProject(crashProject());
    await mkdir(path.join(project, 'flags'));
    const counter = (id: string) => path.join(project, `counter-${id}.jsonl`);
    const flag = (name: string) => path.join(project, 'flags', name);

    let armed = false;
    let killedAt = 0;
    const dev1 = await spawnDev(project, {
      // (b): SIGKILL the moment the completion of crash-b's first activity is reported.
      onLine: (line, server) => {
        if (armed && / crash-b #\d+ ActivityTaskCompleted seq 1 /.test(line)) {
          armed = false;
          killedAt = Date.now();
          server.proc.kill('SIGKILL');
        }
      },
    });
    const env = { WF_ADDRESS: dev1.url };
    const start = (type: string, id: string, ...inputs: unknown[]) =>
      wf(
        [
          'start',
          '--type',
          type,
          '--workflow-id',
          id,
          ...inputs.flatMap((i) => ['--input', JSON.stringify(i)]),
        ],
        env,
      );
    const starts = await Promise.all([
      // (a) a2 is held in flight (waits on a flag file) when wf dev dies
      start('steps', 'crash-a', counter('a'), ['a1', 'a2', 'a3'], [null, flag('a2'), null]),
      // (b) b1 completes right before the kill; b2 is held
      start('steps', 'crash-b', counter('b'), ['b1', 'b2', 'b3'], [flag('b1'), flag('b2'), null]),
      // (d) waits for the signal `go` after one activity
      start('signalFlow', 'crash-d', counter('d')),
    ]);
    for (const s of starts) expect(s).toMatchObject({ code: 0, stderr: '' });
    await until(() => executions(counter('a')).some((e) => e.name === 'a2'), 15_000, 'a2 to start');
    await until(() => executions(counter('b')).some((e) => e.name === 'b1'), 15_000, 'b1 to start');
    await dev1.waitFor(/ crash-d #\d+ ActivityTaskCompleted seq 1 /);
    // (c) a 3 s durable timer between two activities, started last so the kill comes well before it fires
    expect(await start('timerFlow', 'crash-c', counter('c'))).toMatchObject({ code: 0, stderr: '' });
    await dev1.waitFor(/ crash-c #\d+ TimerStarted 3000 ms/);
    armed = true;
    await writeFile(flag('b1'), '');
    const code = await dev1.exited;
    expect(code).toBe(null); // killed by the signal
    expect(killedAt).toBeGreaterThan(0);

    // What was durable at the crash, read straight from the files.
    const before = await readRunFiles(path.join(project, '.wf'));
    expect([...before.keys()].sort()).toEqual(['crash-a', 'crash-b', 'crash-c', 'crash-d']);
    const completedBefore = new Map<string, Set<number>>();
    for (const [id, { lines }] of before) {
      const events = lines.map((l) => JSON.parse(l) as Event);
      completedBefore.set(
        id,
        new Set(events.filter((e) => e.type === 'ActivityTaskCompleted').map((e) => e.seq!)),
      );
      expect(
        events.some((e) => e.type.startsWith('WorkflowExecution') && e.type !== 'WorkflowExecutionStarted'),
      ).toBe(false);
    }
    expect([...completedBefore.get('crash-a')!]).toEqual([1]);
    expect([...completedBefore.get('crash-b')!]).toEqual([1]);
    expect(completedBefore.get('crash-c')!.has(1)).toBe(true);
    expect(completedBefore.get('crash-d')!.has(1)).toBe(true);
    const timerBefore = before.get('crash-c')!.lines.map((l) => JSON.parse(l) as Event);
    const timerStarted = timerBefore.find((e) => e.type === 'TimerStarted')!;
    expect(timerStarted).toBeDefined();
    // The crash came before the timer's deadline, so the restart must honour it.
    expect(timerBefore.some((e) => e.type === 'TimerFired')).toBe(false);
    expect(Date.parse(timerStarted.fireAt!)).toBeGreaterThan(killedAt);

    // Restart on the same project and store.
    const dev2 = await spawnDev(project);
    const dev2ReadyAt = Date.now();
    const env2 = { WF_ADDRESS: dev2.url };
    expect(dev2.output()).toMatch(/recovered: {2}4 open run\(s\) resumed/);
    // A lock left by a killed process is taken over, with a note.
    expect(dev2.output()).toMatch(/note: took over the lock of pid \d+/);

    await writeFile(flag('a2'), '');
    await writeFile(flag('b2'), '');
    const signalled = await wf(
      ['signal', '--workflow-id', 'crash-d', '--name', 'go', '--input', '"yes"'],
      env2,
    );
    expect(signalled).toMatchObject({ code: 0, stdout: 'Signal go sent to crash-d\n' });

    const results = await Promise.all(
      ['crash-a', 'crash-b', 'crash-c', 'crash-d'].map((id) => wf(['result', '-w', id, '-o', 'json'], env2)),
    );
    for (const r of results) expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(results.map((r) => JSON.parse(r.stdout))).toEqual([
      ['a1:done', 'a2:done', 'a3:done'],
      ['b1:done', 'b2:done', 'b3:done'],
      ['before-timer:done', 'after-timer:done'],
      'signalled:yes',
    ]);

    const histories = await Promise.all(
      ['crash-a', 'crash-b', 'crash-c', 'crash-d'].map(async (id) => {
        const out = await wf(['show', '-w', id, '-o', 'json'], env2);
        expect(out.code).toBe(0);
        return [id, jsonLines<Event>(out.stdout)] as const;
      }),
    );

    for (const [id, events] of histories) {
      const runId = (events[0] as Event & { runId: string }).runId;
      const counterFile = counter(id.slice(-1));
      const ran = executions(counterFile);
      for (const scheduled of events.filter((e) => e.type === 'ActivityTaskScheduled')) {
        const key = `${id}/${runId}/${scheduled.activityId}`;
        const name = scheduled.args![1] as string;
        const runs = ran.filter((e) => e.name === name);
        // Every execution of this activity used the same idempotency key.
        expect(runs.map((r) => r.key)).toEqual(runs.map(() => key));
        expect(
          events.filter((e) => e.type === 'ActivityTaskCompleted' && e.seq === scheduled.seq),
        ).toHaveLength(1);
        if (completedBefore.get(id)!.has(scheduled.seq!)) {
          // Its completion was durable before the crash: it never ran again.
          expect(runs, `${id} ${name}`).toHaveLength(1);
        } else if (name === 'a2') {
          // In flight at the crash: ran again after the restart, with the same key.
          expect(runs, `${id} ${name}`).toHaveLength(2);
        } else {
          expect(runs.length, `${id} ${name}`).toBeGreaterThanOrEqual(1);
          expect(runs.length, `${id} ${name}`).toBeLessThanOrEqual(2);
        }
      }
    }

    // (c): the timer fired at its original deadline, never early.
    const timerEvents = histories.find(([id]) => id === 'crash-c')![1];
    const started = timerEvents.find((e) => e.type === 'TimerStarted')!;
    const fired = timerEvents.find((e) => e.type === 'TimerFired')!;
    expect(started.fireAt).toBe(timerStarted.fireAt);
    expect(Date.parse(fired.eventTime)).toBeGreaterThanOrEqual(Date.parse(started.fireAt!));
    expect(Date.parse(started.fireAt!) - Date.parse(started.eventTime)).toBe(3000);
    // ...and at that deadline, not 3 s after the restart (when the restart beat the deadline).
    if (dev2ReadyAt < Date.parse(started.fireAt!)) {
      expect(Date.parse(fired.eventTime)).toBeLessThan(Date.parse(started.fireAt!) + 2500);
    }
  });
});
