import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history/events.js';
import { eventLevel, jsonReporter, plainReporter } from './dev-reporter.js';

const started = {
  eventId: 1,
  eventTime: '2026-01-01T00:00:01.000Z',
  type: 'WorkflowExecutionStarted',
  workflowType: 'job',
} as unknown as HistoryEvent;

describe('wf dev reporters', () => {
  it('--log-format json: one JSON object per line, events whole, log lines with their workflow ID', () => {
    const lines: string[] = [];
    const reporter = jsonReporter((line) => lines.push(line));
    reporter.message('info', 'wf dev listening on http://127.0.0.1:7466');
    reporter.event({ workflowId: 'job-1', runId: 'run-1', event: started });
    reporter.workflowLog('run-1', { level: 'info', message: 'half\nway', attributes: { done: 5 } });
    reporter.paused({ workflowId: 'job-1', runId: 'run-1' }, 'no longer replays');
    reporter.paused({ workflowId: 'job-1', runId: 'run-1' }, undefined);
    reporter.timeSkipped('2026-01-04T00:00:00.000Z', 259_200_000);
    expect(lines.every((l) => !l.includes('\n'))).toBe(true);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.every((r) => typeof r.ts === 'string')).toBe(true);
    expect(records.map((r) => r.kind)).toEqual(['message', 'event', 'log', 'paused', 'resumed', 'time']);
    expect(records[1]).toMatchObject({ workflowId: 'job-1', runId: 'run-1', event: started });
    expect(records[2]).toMatchObject({
      level: 'info',
      message: 'half\nway',
      attributes: { done: 5 },
      workflowId: 'job-1',
      runId: 'run-1',
    });
    expect(records[5]).toMatchObject({ now: '2026-01-04T00:00:00.000Z', offsetMs: 259_200_000 });
  });

  it('plain lines escape control characters that user text could use to forge lines', () => {
    const lines: string[] = [];
    const reporter = plainReporter((line) => lines.push(line));
    reporter.event({ workflowId: 'evil\n00:00 fake', runId: 'r', event: started });
    reporter.message('warn', 'disk nearly full');
    expect(lines).toEqual([
      '00:00:01.000 evil\\n00:00 fake #1 WorkflowExecutionStarted job',
      'warning: disk nearly full',
    ]);
  });
});

describe('activity log lines and event levels', () => {
  const record = {
    level: 'warn' as const,
    message: 'card\nexpired',
    attributes: { last4: '4242' },
    activity: {
      workflowId: 'order-1',
      runId: 'run-1',
      workflowType: 'order',
      activityId: '3',
      activityType: 'chargeCard',
      attempt: 2,
    },
  };

  it('plain: the line names the activity, its attempt and its workflow (user text escaped)', () => {
    const lines: string[] = [];
    plainReporter((line) => lines.push(line)).activityLog(record);
    expect(lines).toEqual([
      '  [warn] card\\nexpired {"last4":"4242"} (activity chargeCard #3 attempt 2 of order-1)',
    ]);
  });

  it('json: kind log, source activity, with every field of the context', () => {
    const lines: string[] = [];
    jsonReporter((line) => lines.push(line)).activityLog(record);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      kind: 'log',
      source: 'activity',
      level: 'warn',
      message: 'card\nexpired',
      attributes: { last4: '4242' },
      ...record.activity,
    });
  });

  it('a failed attempt is a warning, a BENIGN one debug; both lines say so', () => {
    const failed = (category?: 'BENIGN') =>
      ({
        eventId: 4,
        eventTime: '2026-01-01T00:00:02.000Z',
        type: 'ActivityTaskFailed',
        seq: 1,
        attempt: 1,
        failure: { name: 'ApplicationFailure', message: 'declined', ...(category ? { category } : {}) },
      }) as unknown as HistoryEvent;
    expect(eventLevel(failed())).toBe('warn');
    expect(eventLevel(failed('BENIGN'))).toBe('debug');
    expect(eventLevel(started)).toBe('info');
    const lines: string[] = [];
    plainReporter((line) => lines.push(line)).event({ workflowId: 'w', runId: 'r', event: failed('BENIGN') });
    expect(lines).toEqual(['00:00:02.000 w #4 ActivityTaskFailed seq 1 attempt 1 (benign): declined']);
    const json: string[] = [];
    jsonReporter((line) => json.push(line)).event({ workflowId: 'w', runId: 'r', event: failed() });
    expect(JSON.parse(json[0]!)).toMatchObject({ kind: 'event', level: 'warn' });
  });
});
