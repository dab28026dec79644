import { describe, expect, it } from 'vitest';
import { QueryFailedError, WorkflowNotRunningError } from '../common/errors.js';
import type { HistoryEvent } from '../history/events.js';
import { progressBar, toProgress } from './progress.js';
import { ProgressPoller } from './progress-poller.js';

describe('toProgress', () => {
  it('reads a fraction or {done, total}, and nothing else', () => {
    expect(toProgress(0.25)).toEqual({ fraction: 0.25 });
    expect(toProgress(1.7)).toEqual({ fraction: 1 });
    expect(toProgress({ done: 3, total: 12 })).toEqual({ fraction: 0.25, label: '3/12' });
    expect(toProgress({ done: 0, total: 0 })).toEqual({ fraction: 0, label: '0/0' });
    for (const other of [Number.NaN, 'half', null, [1, 2], { done: '1', total: 2 }, { state: 'waiting' }]) {
      expect(toProgress(other)).toBeUndefined();
    }
  });

  it('draws a bar with the percentage and the count', () => {
    expect(progressBar({ fraction: 0.5, label: '5/10' }, 10)).toBe('[█████░░░░░]  50% 5/10');
    expect(progressBar({ fraction: 1 }, 4)).toBe('[████] 100%');
  });
});

const event = (type: string, eventId = 2) =>
  ({ eventId, eventTime: '2026-01-01T00:00:00.000Z', type }) as unknown as HistoryEvent;
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('ProgressPoller', () => {
  it('asks a run after its events, reports changes only, and stops once it closes', async () => {
    const answers = [
      { done: 1, total: 3 },
      { done: 1, total: 3 },
      { done: 2, total: 3 },
    ];
    const asked: string[] = [];
    const seen: unknown[] = [];
    const poller = new ProgressPoller({
      minIntervalMs: 0,
      service: {
        query: async (ref, name) => {
          asked.push(`${ref.workflowId}:${name}`);
          return answers.shift();
        },
      },
      onProgress: (_run, progress) => seen.push(progress.label),
    });
    const notice = (type: string) => ({ workflowId: 'job', runId: 'r', event: event(type) });
    for (const type of ['ActivityTaskCompleted', 'ActivityTaskScheduled', 'ActivityTaskCompleted']) {
      poller.event(notice(type));
      await tick();
      await tick();
    }
    expect(asked).toEqual(['job:progress', 'job:progress', 'job:progress']);
    expect(seen).toEqual(['1/3', '2/3']);
    poller.event(notice('WorkflowExecutionCompleted'));
    await tick();
    expect(asked).toHaveLength(3);
    poller.close();
  });

  it('leaves alone runs without a progress handler, paused runs and runs the view does not show', async () => {
    let asked = 0;
    const poller = new ProgressPoller({
      minIntervalMs: 0,
      service: {
        query: async (ref) => {
          asked++;
          if (ref.workflowId === 'no-handler') {
            throw new QueryFailedError('workflow x has no query handler for "progress"', {
              notRegistered: true,
            });
          }
          throw new WorkflowNotRunningError(ref.workflowId, 'r', 'COMPLETED');
        },
      },
      wanted: (run) => run.workflowId !== 'hidden',
      onProgress: () => undefined,
    });
    for (let i = 0; i < 3; i++) {
      poller.event({ workflowId: 'no-handler', runId: 'r', event: event('TimerFired', i + 2) });
      poller.event({ workflowId: 'hidden', runId: 'r', event: event('TimerFired', i + 2) });
      await tick();
      await tick();
    }
    expect(asked).toBe(1);
    poller.paused({ workflowId: 'stuck', runId: 'r' }, 'does not replay');
    poller.event({ workflowId: 'stuck', runId: 'r', event: event('WorkflowSignaled') });
    poller.paused({ workflowId: 'stuck', runId: 'r' }, 'does not replay');
    await tick();
    expect(asked).toBe(1);
    poller.close();
  });
});
