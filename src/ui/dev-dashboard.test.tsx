import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history/events.js';
import { DevDashboard } from './dev-dashboard.js';
import { RunBoard } from './run-board.js';

const at = (eventId: number, rest: Record<string, unknown>) =>
  ({ eventId, eventTime: `2026-01-01T00:00:0${eventId}.000Z`, ...rest }) as HistoryEvent;

describe('the wf dev live panel', () => {
  it('shows each run with its status and last step, newest first', () => {
    const board = new RunBoard();
    board.apply({
      workflowId: 'order-1',
      runId: 'r1',
      event: at(1, { type: 'WorkflowExecutionStarted', workflowType: 'orderWorkflow' }),
    });
    board.apply({
      workflowId: 'order-2',
      runId: 'r2',
      event: at(1, { type: 'WorkflowExecutionStarted', workflowType: 'orderWorkflow' }),
    });
    board.apply({
      workflowId: 'order-1',
      runId: 'r1',
      event: at(2, { type: 'ActivityTaskScheduled', activityType: 'shipOrder', seq: 1 }),
    });
    board.apply({
      workflowId: 'order-2',
      runId: 'r2',
      event: at(2, { type: 'WorkflowExecutionCompleted', result: 1 }),
    });

    const { frames } = render(<DevDashboard title="wf dev · http://127.0.0.1:7466" runs={board.list()} />);
    const frame = frames.at(-1) ?? '';
    expect(frame).toContain('wf dev · http://127.0.0.1:7466');
    const lines = frame.split('\n');
    const first = lines.findIndex((l) => l.includes('order-2'));
    const second = lines.findIndex((l) => l.includes('order-1'));
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    expect(lines[first]).toContain('COMPLETED');
    expect(lines[second]).toMatch(/RUNNING\s+2\s+scheduled shipOrder/);
  });

  it('shows a paused run as PAUSED until it resumes', () => {
    const board = new RunBoard();
    board.apply({
      workflowId: 'w',
      runId: 'r',
      event: at(1, { type: 'WorkflowExecutionStarted', workflowType: 'flow' }),
    });
    board.setPaused(
      'w',
      'r',
      'workflow flow no longer replays its history: expected ActivityTaskScheduled step\nmore detail',
    );
    const frame = render(<DevDashboard title="wf dev" runs={board.list()} />).frames.at(-1) ?? '';
    expect(frame).toMatch(/w\s+flow\s+PAUSED/);
    // Why, in one line under the run.
    expect(frame).toMatch(
      /↳ workflow flow no longer replays its history: expected ActivityTaskScheduled step/,
    );
    expect(frame).not.toContain('more detail');
    board.setPaused('w', 'r', undefined);
    expect(board.list()[0]).toMatchObject({ status: 'RUNNING', lastEvent: 'resumed' });
  });

  it('shows IDs, names and messages with control and bidirectional characters escaped', () => {
    const board = new RunBoard();
    board.apply({
      workflowId: 'inv\u202eexe.pdf\u001b[2J',
      runId: 'r',
      event: at(1, { type: 'WorkflowExecutionStarted', workflowType: 'fl\u2066ow' }),
    });
    board.apply({
      workflowId: 'inv\u202eexe.pdf\u001b[2J',
      runId: 'r',
      event: at(2, { type: 'WorkflowExecutionFailed', failure: { name: 'E', message: 'bad\u200f\nthing' } }),
    });
    const frame = render(<DevDashboard title="wf dev" runs={board.list()} />).frames.at(-1) ?? '';
    expect(frame).toContain('inv\\u202eexe.pdf\\u001b[2J');
    expect(frame).toContain('fl\\u2066ow');
    expect(frame).toContain('bad\\u200f\\nthing');
    for (const raw of ['\u202e', '\u2066', '\u200f', '\u001b']) expect(frame).not.toContain(raw);
  });

  it('says how to start a run when there is none', () => {
    const { frames } = render(<DevDashboard title="wf dev" runs={[]} />);
    expect(frames.at(-1)).toContain('no runs yet');
  });

  it('draws a progress bar for a running run that reports progress, and drops it when the run closes', () => {
    const board = new RunBoard();
    board.apply({
      workflowId: 'job-1',
      runId: 'r',
      event: at(1, { type: 'WorkflowExecutionStarted', workflowType: 'backgroundJob' }),
    });
    board.setProgress('job-1', 'r', { fraction: 0.6, label: '6/10' });
    expect(render(<DevDashboard title="wf dev" runs={board.list()} />).frames.at(-1)).toMatch(
      /job-1\s+backgroundJob\s+RUNNING\s+1\s+\[███████░░░░░\] {2}60% 6\/10/,
    );
    board.apply({ workflowId: 'job-1', runId: 'r', event: at(2, { type: 'WorkflowExecutionCompleted' }) });
    expect(render(<DevDashboard title="wf dev" runs={board.list()} />).frames.at(-1)).not.toContain('60%');
  });

  it('shows the clock offset when time was skipped, and nothing when it was not', () => {
    expect(
      render(<DevDashboard title="wf dev" runs={[]} timeOffsetMs={3 * 86_400_000} />).frames.at(-1),
    ).toMatch(/time: 3d ahead of real time/);
    expect(render(<DevDashboard title="wf dev" runs={[]} />).frames.at(-1)).not.toMatch(/ahead of real time/);
  });
});
