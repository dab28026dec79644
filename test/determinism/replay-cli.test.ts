/**
 * `wf replay` (the built binary) on histories the current code must, or must not, replay: the
 * report always names a line of the current code.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { built, makeProject, removeTempDirs, wf } from '../acceptance/support.js';
import { fixture, HISTORIES_DIR } from './record.js';

const activities = join(HISTORIES_DIR, '..', 'fixtures', 'shared', 'activities.ts');

/** A project whose workflows are the fixture's, with a history file to replay. */
async function projectWith(workflows: string, history: string): Promise<string> {
  return makeProject({
    'src/workflows/index.ts': workflows,
    'src/activities/index.ts': await readFile(activities, 'utf8'),
    'history.jsonl': history,
  });
}

const T0 = '2024-05-01T10:00:00.000Z';
const started = (workflowType: string) =>
  JSON.stringify({
    eventId: 1,
    eventTime: T0,
    type: 'WorkflowExecutionStarted',
    formatVersion: 1,
    workflowType,
    workflowId: 'w-1',
    runId: 'r-1',
    args: [],
    firstRunId: 'r-1',
    randomnessSeed: 'seed',
    attempt: 1,
  });

describe.skipIf(!built)('wf replay reports (needs `npm run build`)', () => {
  afterAll(removeTempDirs);

  it('names where the code now waits when it issued nothing where the history has a command', async () => {
    const project = await projectWith(
      await readFile(fixture('removed-timer'), 'utf8'),
      await readFile(join(HISTORIES_DIR, 'base.jsonl'), 'utf8'),
    );
    const result = await wf(['replay', 'history.jsonl'], {}, project);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /code issued: +nothing; it now waits on condition at src\/workflows\/index\.ts:15:\d+/,
    );
    expect(result.stdout).toMatch(
      /the code now, at src\/workflows\/index\.ts:15:\n[\s\S]*> 15 \|\s+await condition/,
    );
  });

  it('names the condition whose timeout timer diverges', async () => {
    const project = await projectWith(
      await readFile(fixture('condition-timeout-added'), 'utf8'),
      await readFile(join(HISTORIES_DIR, 'base.jsonl'), 'utf8'),
    );
    const result = await wf(['replay', 'history.jsonl'], {}, project);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /code issued: +TimerStarted 300000 ms \(seq 1\) at src\/workflows\/index\.ts:14:\d+/,
    );
  });

  it('replays a history recorded before signal-with-start, whose background coroutine timed after the return', async () => {
    const workflows = `import { sleep } from 'wfkit/workflow';

export async function lateTimer(): Promise<string> {
  const background = async () => {
    await Promise.resolve();
    await Promise.resolve();
    await sleep('1 minute');
  };
  void background();
  return 'done';
}
`;
    const history = [
      started('lateTimer'),
      JSON.stringify({
        eventId: 2,
        eventTime: T0,
        type: 'TimerStarted',
        seq: 1,
        durationMs: 60000,
        fireAt: '2024-05-01T10:01:00.000Z',
      }),
      JSON.stringify({ eventId: 3, eventTime: T0, type: 'WorkflowExecutionCompleted', result: 'done' }),
    ].join('\n');
    const project = await projectWith(workflows, `${history}\n`);
    const result = await wf(['replay', 'history.jsonl'], {}, project);
    expect(result.stdout).toContain('1 of 1 histories replayed');
    expect(result.code).toBe(0);
  });

  it('reports a step added exactly where an open run waits, when its history says the run issued nothing there', async () => {
    // The base history cut after TimerFired (the run waits for approval), with the commandCount
    // fields this wf records on inputs.
    const counts: Record<number, number> = { 1: 1, 4: 1, 6: 0 };
    const lines = (await readFile(join(HISTORIES_DIR, 'base.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .slice(0, 6)
      .map((line) => {
        const event = JSON.parse(line) as { eventId: number };
        return JSON.stringify(
          event.eventId in counts ? { ...event, commandCount: counts[event.eventId] } : event,
        );
      });
    const project = await projectWith(
      await readFile(fixture('added-at-wait'), 'utf8'),
      `${lines.join('\n')}\n`,
    );
    const result = await wf(['replay', 'history.jsonl'], {}, project);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'history recorded: nothing more: the run waits here (TimerFired, event 6, recorded 0 commands)',
    );
    expect(result.stdout).toMatch(
      /code issued: +ActivityTaskScheduled stepC \(seq 2\) at src\/workflows\/index\.ts:16:\d+/,
    );
  });
});
