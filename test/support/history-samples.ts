/** Sample histories for the store and codec tests. */
import type { HistoryEvent } from '../../src/history/events.js';

export const T = '2024-05-01T10:00:00.000Z';

export function sampleHistory(workflowId = 'order-1', runId = 'run-1'): HistoryEvent[] {
  return [
    {
      eventId: 1,
      eventTime: T,
      type: 'WorkflowExecutionStarted',
      formatVersion: 1,
      workflowType: 'orderWorkflow',
      workflowId,
      runId,
      args: [{ orderId: 'o-1' }],
      randomnessSeed: 'seed',
      attempt: 1,
      firstRunId: runId,
    },
    {
      eventId: 2,
      eventTime: T,
      type: 'ActivityTaskScheduled',
      seq: 1,
      activityId: '1',
      activityType: 'charge',
      args: [42],
      options: {
        startToCloseTimeoutMs: 1000,
        retry: {
          initialIntervalMs: 1000,
          backoffCoefficient: 2,
          maximumIntervalMs: 100_000,
          maximumAttempts: 0,
          nonRetryableErrorTypes: [],
        },
      },
      callSite: { file: 'src/workflows.ts', line: 10, column: 3 },
    },
    { eventId: 3, eventTime: T, type: 'ActivityTaskStarted', seq: 1, attempt: 1 },
    {
      eventId: 4,
      eventTime: T,
      type: 'ActivityTaskFailed',
      seq: 1,
      attempt: 1,
      failure: { message: 'boom', name: 'Error', cause: { message: 'inner', name: 'Error' } },
      nextRetryDelayMs: 1000,
    },
    { eventId: 5, eventTime: T, type: 'ActivityTaskCompleted', seq: 1, attempt: 2, result: { ok: true } },
    { eventId: 6, eventTime: T, type: 'TimerStarted', seq: 2, durationMs: 5000, fireAt: T },
    { eventId: 7, eventTime: T, type: 'TimerFired', seq: 2 },
    { eventId: 8, eventTime: T, type: 'WorkflowSignaled', signalName: 'approve', args: ['héllo ✓ 😀'] },
    {
      eventId: 9,
      eventTime: T,
      type: 'MarkerRecorded',
      markerName: 'patch',
      patchId: 'p1',
      deprecated: false,
    },
    { eventId: 10, eventTime: T, type: 'WorkflowExecutionCompleted', result: 'done' },
  ];
}
