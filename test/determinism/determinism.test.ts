import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NonDeterminismError, runReplayHistory } from 'wfkit/testing';
import { parseHistoryJsonl } from '../../src/history/codec.js';
import type { HistoryEvent } from '../../src/history/events.js';
import { fixture, HISTORIES_DIR, recordAll, recordScenario } from './record.js';

const BASE = join(HISTORIES_DIR, 'base.jsonl');
const PATCHED_STEP_C = join(HISTORIES_DIR, 'patched-added-activity.jsonl');
const REPO_ROOT = join(HISTORIES_DIR, '..', '..', '..');

const replay = (fixtureName: string, history: string | HistoryEvent[] = BASE) =>
  runReplayHistory({ workflowsPath: fixture(fixtureName) }, history);

async function replayFailure(fixtureName: string, history: string | HistoryEvent[] = BASE) {
  const error = await replay(fixtureName, history).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `${fixtureName} should not replay the history`).toBeInstanceOf(NonDeterminismError);
  return error as NonDeterminismError;
}

/** The project-relative path of a fixture's workflows file and the line marked `// diverges here`. */
function marked(fixtureName: string): { file: string; line: number } {
  const path = fixture(fixtureName);
  const lines = readFileSync(path, 'utf8').split('\n');
  const here = lines.findIndex((l) => l.includes('// diverges here'));
  const above = lines.findIndex((l) => l.includes('// diverges at the next line'));
  if (here < 0 && above < 0) throw new Error(`${fixtureName} has no "// diverges here" marker`);
  return { file: relative(REPO_ROOT, path), line: here >= 0 ? here + 1 : above + 2 };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const scheduled = (history: HistoryEvent[]) =>
  history.flatMap((e) => (e.type === 'ActivityTaskScheduled' ? [e.activityType] : []));
const markers = (history: HistoryEvent[]) =>
  history.flatMap((e) =>
    e.type === 'MarkerRecorded' ? [{ patchId: e.patchId, deprecated: e.deprecated }] : [],
  );
const timers = (history: HistoryEvent[]) =>
  history.flatMap((e) => (e.type === 'TimerStarted' ? [e.durationMs] : []));
const children = (history: HistoryEvent[]) =>
  history.flatMap((e) => (e.type === 'ChildWorkflowExecutionStarted' ? [e.workflowType] : []));

describe('the recorded base history', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'wf-det-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('replays against the unchanged code', async () => {
    await expect(replay('base')).resolves.toBeUndefined();
  });

  it('is what the base code records today: a fresh recording has the same steps and replays', async () => {
    const [freshBase, freshPatched] = await recordAll(tmp);
    const committed = parseHistoryJsonl(readFileSync(BASE, 'utf8'), BASE);
    const fresh = parseHistoryJsonl(readFileSync(freshBase!, 'utf8'), freshBase!);
    const shape = (h: HistoryEvent[]) => h.map((e) => `${e.eventId} ${e.type} ${e.eventTime}`);
    expect(shape(fresh)).toEqual(shape(committed));
    expect(fresh.at(-1)).toMatchObject({
      type: 'WorkflowExecutionCompleted',
      result: 'B(A(order-7), approved by ada)',
    });
    await expect(replay('base', freshBase!)).resolves.toBeUndefined();
    await expect(replay('patched-added-activity', freshPatched!)).resolves.toBeUndefined();
  });
});

interface Incompatible {
  change: string;
  fixture: string;
  eventId: number;
  recorded: string;
  /** The issued command's description, or undefined when the code issued nothing. */
  issued: string | RegExp | undefined;
  /** When the code issued nothing: what it waits on instead (at the line marked `// diverges here`). */
  waiting?: string;
}

const incompatible: Incompatible[] = [
  {
    change: 'reordered activities',
    fixture: 'reordered-activities',
    eventId: 2,
    recorded: 'ActivityTaskScheduled stepA (seq 1)',
    issued: 'ActivityTaskScheduled stepB (seq 1)',
  },
  {
    change: 'renamed activity',
    fixture: 'renamed-activity',
    eventId: 2,
    recorded: 'ActivityTaskScheduled stepA (seq 1)',
    issued: 'ActivityTaskScheduled stepAlpha (seq 1)',
  },
  {
    change: 'added activity',
    fixture: 'added-activity',
    eventId: 5,
    recorded: 'TimerStarted 3600000 ms (seq 1)',
    issued: 'ActivityTaskScheduled stepC (seq 2)',
  },
  {
    change: 'removed activity',
    fixture: 'removed-activity',
    eventId: 2,
    recorded: 'ActivityTaskScheduled stepA (seq 1)',
    issued: 'TimerStarted 3600000 ms (seq 1)',
  },
  {
    change: 'removed timer',
    fixture: 'removed-timer',
    eventId: 5,
    recorded: 'TimerStarted 3600000 ms (seq 1)',
    issued: undefined,
    waiting: 'condition',
  },
  {
    change: 'added timer',
    fixture: 'added-timer',
    eventId: 8,
    recorded: 'ActivityTaskScheduled stepB (seq 2)',
    issued: 'TimerStarted 300000 ms (seq 2)',
  },
  {
    change: 'signal wait (condition) removed',
    fixture: 'no-signal-wait',
    eventId: 7,
    recorded: 'WorkflowSignaled approve (the workflow was waiting here)',
    issued: 'ActivityTaskScheduled stepB (seq 2)',
  },
  {
    change: 'new Math.random() branch picking another activity',
    fixture: 'random-branch',
    eventId: 2,
    recorded: 'ActivityTaskScheduled stepA (seq 1)',
    issued: /^ActivityTaskScheduled step[CD] \(seq 1\)$/,
  },
  {
    change: 'changed uuid4()-driven branch',
    fixture: 'uuid-branch',
    eventId: 2,
    recorded: 'ActivityTaskScheduled stepA (seq 1)',
    issued: 'ActivityTaskScheduled stepC (seq 1)',
  },
  {
    change: 'activity replaced by a child workflow',
    fixture: 'child-instead-of-activity',
    eventId: 2,
    recorded: 'ActivityTaskScheduled stepA (seq 1)',
    issued: 'ChildWorkflowExecutionStarted stepAWorkflow (seq 1)',
  },
  {
    change: 'workflow returns early, without stepB',
    fixture: 'early-return',
    eventId: 8,
    recorded: 'ActivityTaskScheduled stepB (seq 2)',
    issued: 'WorkflowExecutionCompleted',
  },
  {
    change: 'added condition with a timeout (its timer names the condition)',
    fixture: 'condition-timeout-added',
    eventId: 2,
    recorded: 'ActivityTaskScheduled stepA (seq 1)',
    issued: 'TimerStarted 300000 ms (seq 1)',
  },
  {
    change: 'added CancellationScope.withTimeout (its timer names the scope)',
    fixture: 'scope-timeout-added',
    eventId: 2,
    recorded: 'ActivityTaskScheduled stepA (seq 1)',
    issued: 'TimerStarted 300000 ms (seq 1)',
  },
  {
    change: 'timer replaced by a promise that never settles (the report names the workflow function)',
    fixture: 'waits-forever',
    eventId: 5,
    recorded: 'TimerStarted 3600000 ms (seq 1)',
    issued: undefined,
    waiting: 'the workflow function baseWorkflow (awaiting nothing wf started)',
  },
  {
    change: 'workflow throws instead of running stepB (the report names the throw)',
    fixture: 'throws-instead',
    eventId: 8,
    recorded: 'ActivityTaskScheduled stepB (seq 2)',
    issued: 'WorkflowExecutionFailed (no stepB for ada)',
  },
  {
    change: 'added executeChild',
    fixture: 'added-child',
    eventId: 11,
    recorded: 'WorkflowExecutionCompleted',
    issued: 'ChildWorkflowExecutionStarted notifyWorkflow (seq 1)',
  },
];

describe('incompatible changes fail replay with NonDeterminismError', () => {
  it.each(incompatible)('$change', async (c) => {
    const error = await replayFailure(c.fixture);
    const { details } = error;
    expect(details.workflowType).toBe('baseWorkflow');
    expect(details.eventId).toBe(c.eventId);
    expect(details.recorded?.eventId).toBe(c.eventId);
    expect(details.recordedDescription).toBe(c.recorded);
    expect(error.message).toContain(`at event ${c.eventId}:`);
    expect(error.message).toContain(`history recorded: ${c.recorded}`);
    expect(error.message).toContain('patched(');
    // Every report names a line of the current code: the command it issued, or where it waits.
    const expected = marked(c.fixture);
    expect(error.codeSite).toMatchObject(expected);
    if (c.issued === undefined) {
      expect(details.issued).toBeUndefined();
      expect(details.waitingAt?.[0]).toMatchObject({ description: c.waiting, callSite: expected });
      expect(error.message).toMatch(
        new RegExp(
          `code issued: +nothing; it now waits on ${escapeRegExp(c.waiting ?? '')} at ${expected.file}:${expected.line}:\\d+`,
        ),
      );
    } else {
      expect(details.issued?.description).toMatch(
        typeof c.issued === 'string' ? new RegExp(`^${c.issued.replace(/[()]/g, '\\$&')}$`) : c.issued,
      );
      expect(details.issued?.callSite).toMatchObject(expected);
      expect(error.message).toContain(
        `code issued:      ${details.issued?.description} at ${expected.file}:${expected.line}:`,
      );
    }
    // The recorded side points into the code that recorded it.
    const recordedSite =
      details.recorded && 'callSite' in details.recorded ? details.recorded.callSite : undefined;
    if (recordedSite) expect(recordedSite.file).toBe('test/determinism/fixtures/base/src/workflows/index.ts');
  });
});

interface Patched {
  change: string;
  fixture: string;
  patchId: string;
  activities: (string | RegExp)[];
  timers: number[];
  children: string[];
}

const patchedChanges: Patched[] = [
  {
    change: 'reordered activities',
    fixture: 'patched-reordered-activities',
    patchId: 'reorder',
    activities: ['stepB', 'stepA'],
    timers: [3_600_000],
    children: [],
  },
  {
    change: 'renamed activity',
    fixture: 'patched-renamed-activity',
    patchId: 'rename-a',
    activities: ['stepAlpha', 'stepB'],
    timers: [3_600_000],
    children: [],
  },
  {
    change: 'added activity',
    fixture: 'patched-added-activity',
    patchId: 'add-step-c',
    activities: ['stepA', 'stepC', 'stepB'],
    timers: [3_600_000],
    children: [],
  },
  {
    change: 'removed activity',
    fixture: 'patched-removed-activity',
    patchId: 'drop-step-a',
    activities: ['stepB'],
    timers: [3_600_000],
    children: [],
  },
  {
    change: 'removed timer',
    fixture: 'patched-removed-timer',
    patchId: 'no-timer',
    activities: ['stepA', 'stepB'],
    timers: [],
    children: [],
  },
  {
    change: 'added timer',
    fixture: 'patched-added-timer',
    patchId: 'cool-down',
    activities: ['stepA', 'stepB'],
    timers: [3_600_000, 300_000],
    children: [],
  },
  {
    change: 'signal wait removed',
    fixture: 'patched-no-signal-wait',
    patchId: 'auto-approve',
    activities: ['stepA', 'stepB'],
    timers: [3_600_000],
    children: [],
  },
  {
    change: 'Math.random() branch',
    fixture: 'patched-random-branch',
    patchId: 'random-first',
    activities: [/^step[CD]$/, 'stepB'],
    timers: [3_600_000],
    children: [],
  },
  {
    change: 'uuid4()-driven branch',
    fixture: 'patched-uuid-branch',
    patchId: 'fast-lane',
    activities: ['stepC', 'stepB'],
    timers: [3_600_000],
    children: [],
  },
  {
    change: 'activity replaced by a child workflow',
    fixture: 'patched-child-instead-of-activity',
    patchId: 'a-as-child',
    activities: ['stepB'],
    timers: [3_600_000],
    children: ['stepAWorkflow'],
  },
  {
    change: 'early return',
    fixture: 'patched-early-return',
    patchId: 'skip-b',
    activities: ['stepA'],
    timers: [3_600_000],
    children: [],
  },
  {
    change: 'added executeChild',
    fixture: 'patched-added-child',
    patchId: 'notify',
    activities: ['stepA', 'stepB'],
    timers: [3_600_000],
    children: ['notifyWorkflow'],
  },
];

describe('the same changes behind patched()', () => {
  it.each(patchedChanges)('$change: replays the old history, and a new run takes the new path', async (c) => {
    await expect(replay(c.fixture)).resolves.toBeUndefined();

    const history = await recordScenario(c.fixture, `new-${c.patchId}`);
    expect(history.at(-1)?.type).toBe('WorkflowExecutionCompleted');
    expect(markers(history)).toEqual([{ patchId: c.patchId, deprecated: false }]);
    const activities = scheduled(history);
    expect(activities).toHaveLength(c.activities.length);
    c.activities.forEach((expected, i) => {
      expect(activities[i]).toMatch(typeof expected === 'string' ? new RegExp(`^${expected}$`) : expected);
    });
    expect(timers(history)).toEqual(c.timers);
    expect(children(history)).toEqual(c.children);
    // The new history replays against the patched code too.
    await expect(replay(c.fixture, history)).resolves.toBeUndefined();
  });
});

describe('deprecatePatch', () => {
  it('replays a history recorded by patched() on the new path (marker recorded, deprecated: false)', async () => {
    await expect(replay('deprecated-patch', PATCHED_STEP_C)).resolves.toBeUndefined();
  });

  it('records a deprecated marker in new runs, and replays that history', async () => {
    const history = await recordScenario('deprecated-patch', 'deprecated-1');
    expect(markers(history)).toEqual([{ patchId: 'add-step-c', deprecated: true }]);
    expect(scheduled(history)).toEqual(['stepA', 'stepC', 'stepB']);
    await expect(replay('deprecated-patch', history)).resolves.toBeUndefined();
  });

  it('replays a history recorded without the patch marker, on the new path', async () => {
    const history = await recordScenario('patch-removed', 'no-marker-1');
    expect(markers(history)).toEqual([]);
    await expect(replay('deprecated-patch', history)).resolves.toBeUndefined();
  });

  it('once removed too, the code still replays histories that have the marker', async () => {
    await expect(replay('patch-removed', PATCHED_STEP_C)).resolves.toBeUndefined();
  });

  it('does not replay histories that took the old path: those runs must close before deprecating', async () => {
    const error = await replayFailure('deprecated-patch');
    expect(error.details.eventId).toBe(5);
    expect(error.details.issued?.description).toBe('ActivityTaskScheduled stepC (seq 2)');
  });
});

describe('compatible changes replay the base history', () => {
  it.each([
    ['changed timer duration', 'compatible-timer-duration'],
    [
      'changed activity options (timeouts, retry, executeActivity with options)',
      'compatible-activity-options',
    ],
    ['changed activity arguments', 'compatible-activity-args'],
    ['changed workflow-local computation that issues no commands', 'compatible-local-computation'],
    ['log lines added', 'compatible-log-lines'],
  ])('%s', async (_change, fixtureName) => {
    await expect(replay(fixtureName)).resolves.toBeUndefined();
  });
});

describe('a change exactly where an open run waits', () => {
  // A fresh base recording carries commandCount on its inputs; cut after TimerFired (event 6), it is
  // a run waiting for the approve signal, and cut after TimerStarted (event 5), a run waiting for the timer.
  let fresh: HistoryEvent[];
  beforeAll(async () => {
    fresh = await recordScenario('base');
  });
  const waitingForApproval = () => fresh.slice(0, 6);
  const waitingForTimer = () => fresh.slice(0, 5);
  const withoutCounts = (history: HistoryEvent[]) =>
    history.map(({ commandCount: _count, ...rest }) => rest as HistoryEvent);

  it('records on every input how many commands its activation issued', () => {
    expect(fresh.filter((e) => e.commandCount !== undefined).map((e) => [e.type, e.commandCount])).toEqual([
      ['WorkflowExecutionStarted', 1],
      ['ActivityTaskCompleted', 1],
      ['TimerFired', 0],
      ['WorkflowSignaled', 1],
      ['ActivityTaskCompleted', 1],
    ]);
  });

  it('reports a command added where the run waits after an activation that issued none', async () => {
    const error = await replayFailure('added-at-wait', waitingForApproval());
    expect(error.details.eventId).toBe(7);
    expect(error.details.recordedDescription).toBe(
      'nothing more: the run waits here (TimerFired, event 6, recorded 0 commands)',
    );
    expect(error.details.issued?.description).toBe('ActivityTaskScheduled stepC (seq 2)');
    expect(error.codeSite).toMatchObject(marked('added-at-wait'));
    expect(error.message).toContain('patched(');
  });

  it('reports a command added beside the one the waiting run recorded', async () => {
    const error = await replayFailure('added-beside-timer', waitingForTimer());
    expect(error.details.eventId).toBe(6);
    expect(error.details.recordedDescription).toMatch(/recorded 1 command\)$/);
    expect(error.details.issued?.description).toBe('ActivityTaskScheduled stepC (seq 2)');
    expect(error.codeSite).toMatchObject(marked('added-beside-timer'));
  });

  it('keeps the waiting run on its path when the addition is behind patched()', async () => {
    const { RunExecutor } = await import('../../src/runtime/executor.js');
    const { loadWorkflowCode } = await import('../../src/runtime/workflow-code.js');
    const code = await loadWorkflowCode({ workflowsPath: fixture('patched-added-at-wait') });
    const { events } = RunExecutor.replay(waitingForApproval(), { sandbox: code.sandbox });
    expect(events).toEqual([]);
    // A new run takes the new path.
    expect(scheduled(await recordScenario('patched-added-at-wait', 'new-path'))).toEqual([
      'stepA',
      'stepC',
      'stepB',
    ]);
  });

  it('still takes the addition in a history written before wf recorded commandCount (format v1 as it was)', async () => {
    const { RunExecutor } = await import('../../src/runtime/executor.js');
    const { loadWorkflowCode } = await import('../../src/runtime/workflow-code.js');
    const code = await loadWorkflowCode({ workflowsPath: fixture('added-at-wait') });
    const { events } = RunExecutor.replay(withoutCounts(waitingForApproval()), { sandbox: code.sandbox });
    expect(events.map((e) => e.type)).toEqual(['ActivityTaskScheduled']);
  });

  it('re-issues the commands of an activation whose recording a crash cut short', async () => {
    const { RunExecutor } = await import('../../src/runtime/executor.js');
    const { loadWorkflowCode } = await import('../../src/runtime/workflow-code.js');
    const code = await loadWorkflowCode({ workflowsPath: fixture('base') });
    // Event 4 (stepA completed) recorded one command; the line holding it (event 5) was lost.
    const { events } = RunExecutor.replay(fresh.slice(0, 4), { sandbox: code.sandbox });
    expect(events.map((e) => [e.eventId, e.type])).toEqual([[5, 'TimerStarted']]);
  });
});
