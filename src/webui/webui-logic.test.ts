/** The browser code's pure parts, run under Node: history grouping, routes, the SSE parser, checks. */
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../protocol/service.js';
import { queryString, segment } from './api.js';
import { SseParser } from './event-stream.js';
import { checkJson } from './json-editor.js';
import { sitesInText } from './paused-report.js';
import { parseRoute, runHref } from './routes.js';
import { exportFileName, historyJsonl } from './run-actions.js';
import { buildTimeline, failingStep } from './timeline.js';

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

const HISTORY: HistoryEvent[] = [
  {
    eventId: 1,
    eventTime: t(0),
    type: 'WorkflowExecutionStarted',
    formatVersion: 1,
    workflowType: 'order',
    workflowId: 'o-1',
    runId: 'r1',
    args: [1],
    randomnessSeed: 's',
    attempt: 1,
    firstRunId: 'r1',
  },
  {
    eventId: 2,
    eventTime: t(0),
    type: 'ActivityTaskScheduled',
    seq: 1,
    activityId: '1',
    activityType: 'charge',
    args: [],
    options: {} as never,
  },
  { eventId: 3, eventTime: t(1), type: 'ActivityTaskStarted', seq: 1, attempt: 1 },
  {
    eventId: 4,
    eventTime: t(2),
    type: 'ActivityTaskFailed',
    seq: 1,
    attempt: 1,
    failure: { name: 'Error', message: 'down' },
    nextRetryDelayMs: 1000,
  },
  { eventId: 5, eventTime: t(3), type: 'ActivityTaskStarted', seq: 1, attempt: 2 },
  { eventId: 6, eventTime: t(4), type: 'ActivityTaskCompleted', seq: 1, attempt: 2, result: 'ok' },
  { eventId: 7, eventTime: t(4), type: 'WorkflowSignaled', signalName: 'go', args: [] },
  { eventId: 8, eventTime: t(4), type: 'TimerStarted', seq: 2, durationMs: 5000, fireAt: t(9) },
  {
    eventId: 9,
    eventTime: t(5),
    type: 'ChildWorkflowExecutionStarted',
    seq: 3,
    workflowType: 'ship',
    workflowId: 'ship-1',
    runId: 'c1',
    args: [],
    parentClosePolicy: 'TERMINATE',
  },
];

describe('the timeline of a history', () => {
  it('groups events into steps with their attempts, spans and links', () => {
    const { rows, start, end } = buildTimeline(HISTORY);
    expect(rows.map((r) => [r.kind, r.label, r.state])).toEqual([
      ['workflow', 'order', 'open'],
      ['activity', 'charge', 'ok'],
      ['signal', 'go', 'info'],
      ['timer', 'timer', 'open'],
      ['child', 'ship', 'open'],
    ]);
    const activity = rows[1]!;
    expect(activity.attempts.map((a) => [a.attempt, a.outcome, a.failure?.message])).toEqual([
      [1, 'failed', 'down'],
      [2, 'completed', undefined],
    ]);
    expect(activity.end! - activity.start).toBe(4000);
    expect(activity.nextRetryAt).toBeUndefined();
    expect(rows[4]!.child).toEqual({ workflowId: 'ship-1', runId: 'c1' });
    expect(end - start).toBe(5000);
  });

  it('knows when a failed attempt retries', () => {
    const { rows } = buildTimeline(HISTORY.slice(0, 4));
    expect(rows[1]!.state).toBe('retrying');
    expect(rows[1]!.nextRetryAt).toBe(Date.parse(t(3)));
  });

  it('names the activity a failure came from', () => {
    const failure = {
      name: 'ActivityFailure',
      message: 'activity failed',
      activityType: 'charge',
      cause: { name: 'ApplicationFailure', message: 'declined' },
    };
    expect(failingStep({ name: 'WorkflowError', message: 'x', cause: failure })).toEqual({
      activityType: 'charge',
    });
  });
});

describe('addresses', () => {
  it('round-trips workflow IDs with slashes, spaces and markup through /runs/<id>/<run>', () => {
    for (const id of ['order/1', 'a b', '<script>alert(1)</script>', 'javascript:alert(1)', '.', '..']) {
      const href = runHref(id, 'r-1');
      expect(href.startsWith('/runs')).toBe(true);
      const url = new URL(href, 'http://127.0.0.1:7466');
      expect(parseRoute(url.pathname, url.search), id).toEqual({ page: 'run', workflowId: id, runId: 'r-1' });
    }
    expect(parseRoute('/', '?status=FAILED&q=ord')).toEqual({
      page: 'runs',
      status: 'FAILED',
      type: '',
      search: 'ord',
      query: '',
    });
    expect(parseRoute('/elsewhere', '').page).toBe('not-found');
  });

  it('encodes path segments and list-query strings for the API', () => {
    expect(segment('order/1')).toBe('order%2F1');
    expect(segment('..')).toBe('%2E%2E');
    expect(queryString('a"b\\c')).toBe('"a\\"b\\\\c"');
  });
});

describe('the SSE parser', () => {
  it('returns the data of whole messages only, across chunks, skipping comments', () => {
    const parser = new SseParser();
    expect(parser.push(': connected\n\ndata: {"a"')).toEqual([]);
    expect(parser.push(':1}\n\n: keep-alive\n\ndata: 2\r\n\r\n')).toEqual(['{"a":1}', '2']);
  });
});

describe('the JSON editor check', () => {
  it('asks for an array of arguments and reports parse errors', () => {
    expect(checkJson('', 'array')).toEqual({ ok: true, value: [] });
    expect(checkJson('["a", 1]', 'array')).toEqual({ ok: true, value: ['a', 1] });
    expect(checkJson('{"a":1}', 'array').ok).toBe(false);
    expect(checkJson('[1,', 'array').ok).toBe(false);
  });
});

describe('the history download', () => {
  it('is the wf export format: one event a line, each followed by a newline', () => {
    expect(historyJsonl(HISTORY.slice(0, 2))).toBe(
      `${JSON.stringify(HISTORY[0])}\n${JSON.stringify(HISTORY[1])}\n`,
    );
    expect(exportFileName('<script>/x', 'abcdef123456')).toBe('_script__x-abcdef12.jsonl');
  });
});

describe('sites in a pause reason', () => {
  it('finds both sides of a divergence', () => {
    const reason =
      'history recorded: ActivityTaskScheduled a (seq 1) at src/workflows/index.ts:10\n' +
      'code issued:      ActivityTaskScheduled b (seq 1) at src/workflows/index.ts:12:5';
    expect(sitesInText(reason)).toEqual([
      { file: 'src/workflows/index.ts', line: 10 },
      { file: 'src/workflows/index.ts', line: 12, column: 5 },
    ]);
  });
});
