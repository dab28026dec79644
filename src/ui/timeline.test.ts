import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history/events.js';
import { formatTimeline, summarizeFailure, summarizeValue } from './timeline.js';

const t = (ms: number) => new Date(Date.UTC(2025, 0, 1, 12, 0, 0) + ms).toISOString();
const retry = {
  initialIntervalMs: 1000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60000,
  maximumAttempts: 0,
  nonRetryableErrorTypes: [],
};

const history: HistoryEvent[] = [
  {
    eventId: 1,
    eventTime: t(0),
    type: 'WorkflowExecutionStarted',
    formatVersion: 1,
    workflowType: 'orderWorkflow',
    workflowId: 'order-1',
    runId: 'r1',
    args: [{ orderId: 'order-1' }],
    randomnessSeed: 's',
    attempt: 1,
    firstRunId: 'r1',
  },
  {
    eventId: 2,
    eventTime: t(12),
    type: 'ActivityTaskScheduled',
    seq: 1,
    activityId: '1',
    activityType: 'charge',
    args: [4999],
    options: { retry },
  },
  { eventId: 3, eventTime: t(13), type: 'ActivityTaskStarted', seq: 1, attempt: 1 },
  {
    eventId: 4,
    eventTime: t(1200),
    type: 'ActivityTaskFailed',
    seq: 1,
    attempt: 1,
    failure: { name: 'Error', type: 'Error', message: 'gateway\ntimeout' },
    nextRetryDelayMs: 1000,
  },
  { eventId: 5, eventTime: t(2210), type: 'ActivityTaskStarted', seq: 1, attempt: 2 },
  {
    eventId: 6,
    eventTime: t(2300),
    type: 'ActivityTaskCompleted',
    seq: 1,
    attempt: 2,
    result: { chargeId: 'ch_1' },
  },
  {
    eventId: 7,
    eventTime: t(2301),
    type: 'TimerStarted',
    seq: 2,
    durationMs: 86_400_000,
    fireAt: t(86_402_301),
  },
  { eventId: 8, eventTime: t(65_000), type: 'WorkflowSignaled', signalName: 'approve', args: ['ada'] },
  { eventId: 9, eventTime: t(65_001), type: 'TimerCanceled', seq: 2 },
  {
    eventId: 10,
    eventTime: t(3_725_000),
    type: 'WorkflowExecutionFailed',
    failure: {
      name: 'ActivityFailure',
      message: 'activity ship failed',
      activityType: 'ship',
      cause: { name: 'ApplicationFailure', type: 'NoStock', message: 'out of stock', nonRetryable: true },
    },
  },
];

describe('formatTimeline', () => {
  it('shows id, time since start, type and the key detail of each event', () => {
    expect(formatTimeline(history, { color: false })).toBe(
      [
        ' 1  +0ms       WorkflowExecutionStarted  orderWorkflow({"orderId":"order-1"}) id="order-1" run=r1',
        ' 2  +12ms      ActivityTaskScheduled     charge(4999)',
        ' 3  +13ms      ActivityTaskStarted       charge attempt 1',
        ' 4  +1.2s      ActivityTaskFailed        charge attempt 1: Error: gateway timeout, retry in 1.0s',
        ' 5  +2.2s      ActivityTaskStarted       charge attempt 2',
        ' 6  +2.3s      ActivityTaskCompleted     charge attempt 2 → {"chargeId":"ch_1"}',
        ` 7  +2.3s      TimerStarted              24h00m00s (fires ${t(86_402_301)})`,
        ' 8  +1m05s     WorkflowSignaled          approve("ada")',
        ' 9  +1m05s     TimerCanceled             timer #2 (24h00m00s)',
        '10  +1h02m05s  WorkflowExecutionFailed   ActivityFailure: activity ship failed ← NoStock: out of stock (non-retryable)',
      ].join('\n'),
    );
  });

  it('colours only when asked', () => {
    const plain = formatTimeline(history, { color: false });
    const colored = formatTimeline(history, { color: true });
    const esc = String.fromCharCode(27);
    expect(plain).not.toContain(esc);
    expect(colored).toContain(`${esc}[31mWorkflowExecutionFailed`);
    expect(colored.replaceAll(new RegExp(`${esc}\\[\\d+m`, 'g'), '')).toBe(plain);
  });

  it('renders an empty history as nothing', () => {
    expect(formatTimeline([], { color: false })).toBe('');
  });

  it('cuts long values', () => {
    const started = { ...history[0]!, args: ['x'.repeat(500)] } as HistoryEvent;
    const line = formatTimeline([started], { color: false, maxValueLength: 20 });
    expect(line).toContain('orderWorkflow("xxxxxxxxxxxxxxxxxx…)');
  });

  it('names updates, children and closing events', () => {
    const events: HistoryEvent[] = [
      history[0]!,
      {
        eventId: 2,
        eventTime: t(1),
        type: 'WorkflowUpdateAccepted',
        updateId: 'u1',
        updateName: 'setDiscount',
        args: [10],
      },
      { eventId: 3, eventTime: t(2), type: 'WorkflowUpdateCompleted', updateId: 'u1', result: 4499 },
      {
        eventId: 4,
        eventTime: t(3),
        type: 'ChildWorkflowExecutionStarted',
        seq: 3,
        workflowType: 'ship',
        workflowId: 'ship-1',
        runId: 'c1',
        args: [],
        parentClosePolicy: 'TERMINATE',
      },
      { eventId: 5, eventTime: t(4), type: 'ChildWorkflowExecutionCompleted', seq: 3, result: 'shipped' },
      {
        eventId: 6,
        eventTime: t(5),
        type: 'MarkerRecorded',
        markerName: 'patch',
        patchId: 'v2',
        deprecated: false,
      },
      {
        eventId: 7,
        eventTime: t(6),
        type: 'WorkflowExecutionContinuedAsNew',
        newRunId: 'r2',
        workflowType: 'orderWorkflow',
        args: [1],
      },
    ];
    const lines = formatTimeline(events, { color: false }).split('\n');
    expect(lines[1]).toMatch(/WorkflowUpdateAccepted\s+setDiscount\(10\) id=u1$/);
    expect(lines[2]).toMatch(/WorkflowUpdateCompleted\s+setDiscount id=u1 → 4499$/);
    expect(lines[3]).toMatch(/ChildWorkflowExecutionStarted\s+ship\(\) id="ship-1" run=c1$/);
    expect(lines[4]).toMatch(/ChildWorkflowExecutionCompleted\s+ship → "shipped"$/);
    expect(lines[5]).toMatch(/MarkerRecorded\s+patch "v2"$/);
    expect(lines[6]).toMatch(/WorkflowExecutionContinuedAsNew\s+new run r2\(1\)$/);
  });
});

describe('helpers', () => {
  it('summarizes failures and values', () => {
    expect(summarizeFailure({ name: 'TimeoutFailure', message: 'START_TO_CLOSE timeout' })).toBe(
      'TimeoutFailure: START_TO_CLOSE timeout',
    );
    expect(summarizeValue(undefined, 10)).toBe('undefined');
    expect(summarizeValue('abcdefghijkl', 5)).toBe('"abc…');
  });
});
