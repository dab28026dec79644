/** A run's relatives as links: parent, children, the run it continued from, every run of its workflow ID. */
import type { HistoryEvent, RunDescription, RunSummary } from '../protocol/service.js';
import { formatTime, shownStatus } from './format.js';
import { RunLink } from './run-link.js';
import type { TimelineRow } from './timeline.js';

type Started = Extract<HistoryEvent, { type: 'WorkflowExecutionStarted' }>;

export function RelatedRuns({
  description,
  started,
  childRows,
  siblings,
}: {
  description: RunDescription;
  started: Started | undefined;
  /** The timeline's child-workflow rows. */
  childRows: TimelineRow[];
  /** Every run of the workflow ID, newest first. */
  siblings: RunSummary[];
}) {
  if (!started?.parent && !started?.continuedFromRunId && childRows.length === 0 && siblings.length <= 1) {
    return null;
  }
  return (
    <section className="card relations">
      <h2>Related runs</h2>
      <ul>
        {started?.parent ? (
          <li>
            parent:{' '}
            <RunLink workflowId={started.parent.workflowId} runId={started.parent.runId}>
              {started.parent.workflowId}
            </RunLink>
          </li>
        ) : null}
        {started?.continuedFromRunId ? (
          <li>
            continued from:{' '}
            <RunLink workflowId={description.workflowId} runId={started.continuedFromRunId}>
              {started.continuedFromRunId}
            </RunLink>
          </li>
        ) : null}
        {childRows.map((c) =>
          c.child ? (
            <li key={c.key}>
              child workflow ({c.label}):{' '}
              <RunLink workflowId={c.child.workflowId} {...(c.child.runId ? { runId: c.child.runId } : {})}>
                {c.child.workflowId}
              </RunLink>
            </li>
          ) : null,
        )}
      </ul>
      {siblings.length > 1 ? (
        <>
          <h3>Runs of this workflow ID (continue-as-new chain and restarts, newest first)</h3>
          <ul className="chain">
            {siblings.map((r) => (
              <li key={r.runId}>
                {r.runId === description.runId ? (
                  <strong className="mono">{r.runId}</strong>
                ) : (
                  <RunLink workflowId={r.workflowId} runId={r.runId}>
                    {r.runId}
                  </RunLink>
                )}{' '}
                <span className={`status status-${shownStatus(r)}`}>{shownStatus(r)}</span>{' '}
                <span className="muted">{formatTime(r.startTime)}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
