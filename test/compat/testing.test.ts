/**
 * wfkit/testing's time skipping as Temporal's tests use it: `env.sleep` from inside an activity or
 * while one runs never waits on the wall clock, and waiting on an event with a timeout skips to it.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { TestWorkflowEnvironment } from 'wfkit/testing';
import {
  approve,
  awaitApproval,
  raceActivityAndTimer,
  remindDuringActivity,
} from './testing-project/src/workflows/index.js';

const workflowsPath = fileURLToPath(new URL('./testing-project/src/workflows/index.ts', import.meta.url));
const START = Date.parse('2026-03-01T09:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;

let env: TestWorkflowEnvironment | undefined;
afterEach(async () => {
  await env?.teardown();
  env = undefined;
});

/** A promise the test settles by hand, and whether it has been settled. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('TestWorkflowEnvironment time skipping', () => {
  it('env.sleep inside an activity skips time at once: the workflow timer wins the race', async () => {
    const e = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath,
      startTime: START,
      activities: {
        longRunning: async () => {
          // Stands for a 10-day activity; on the wall clock this takes no time.
          await e.sleep('10 days');
          return 'activity';
        },
        notify: async (m: string) => m,
      },
    });
    env = e;
    await expect(e.client.workflow.execute(raceActivityAndTimer, { workflowId: 'race' })).resolves.toBe(
      'timer',
    );
    expect(e.currentTimeMs() - START).toBeGreaterThanOrEqual(5 * DAY);
  });

  it('env.sleep while an activity runs fires the timers due, without waiting for the activity', async () => {
    const release = gate();
    const notes: string[] = [];
    const e = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath,
      startTime: START,
      activities: {
        longRunning: async () => {
          await release.promise;
          return 'done';
        },
        notify: async (m: string) => {
          notes.push(m);
          return m;
        },
      },
    });
    env = e;
    const handle = await e.client.workflow.start(remindDuringActivity, { workflowId: 'remind' });
    await e.sleep('2 days'); // the activity is still running, held by the gate
    const types = (await handle.fetchHistory()).map((event) => event.type);
    expect(types).toContain('TimerFired');
    expect(types.filter((t) => t === 'ActivityTaskCompleted')).toHaveLength(1); // notify only
    expect(notes).toEqual(['reminder']);
    release.open();
    await expect(handle.result()).resolves.toBe('done');
  });

  it('a workflow waiting on an event with a timeout: result() skips to the timeout', async () => {
    const e = await TestWorkflowEnvironment.createTimeSkipping({ workflowsPath, startTime: START });
    env = e;
    await expect(e.client.workflow.execute(awaitApproval, { workflowId: 'approval' })).resolves.toBe(
      'timed out',
    );
    expect(e.currentTimeMs() - START).toBe(7 * DAY);
    const approved = await e.client.workflow.start(awaitApproval, { workflowId: 'approval-2' });
    await e.sleep('1 day');
    await approved.signal(approve);
    await expect(approved.result()).resolves.toBe('approved');
  });
});
