/** What a run was given (input, memo, search attributes) and how it ended (result, failure...). */
import type { HistoryEvent, RunDescription } from '../protocol/service.js';
import { failureChain, failureLine } from './format.js';
import { Payload } from './payload.js';
import { RunLink } from './run-link.js';
import { failingStep } from './timeline.js';

type Started = Extract<HistoryEvent, { type: 'WorkflowExecutionStarted' }>;

function Failure({
  failure,
}: {
  failure: Extract<HistoryEvent, { type: 'WorkflowExecutionFailed' }>['failure'];
}) {
  const step = failingStep(failure);
  return (
    <div className="failure" data-testid="failure">
      {step.activityType ? (
        <p>
          failing activity: <strong>{step.activityType}</strong>
        </p>
      ) : step.workflowType ? (
        <p>
          failing child workflow: <strong>{step.workflowType}</strong>
        </p>
      ) : null}
      {failureChain(failure).map((f, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a failure's chain of causes never reorders
        <details key={i} open={i === 0}>
          <summary>{(i > 0 ? 'caused by ' : '') + failureLine(f)}</summary>
          {f.stack ? <pre className="stack">{f.stack}</pre> : null}
          {f.details?.length ? <Payload value={f.details} /> : null}
        </details>
      ))}
    </div>
  );
}

export function RunOutcome({
  description,
  started,
  closing,
}: {
  description: RunDescription;
  started: Started | undefined;
  /** The run's closing event, when it is closed. */
  closing: HistoryEvent | undefined;
}) {
  return (
    <div className="grid2">
      <section className="card">
        <h2>Input</h2>
        {started ? <Payload value={started.args} open /> : <span className="muted">—</span>}
        {started?.memo ? (
          <>
            <h3>Memo</h3>
            <Payload value={started.memo} />
          </>
        ) : null}
        {description.searchAttributes ? (
          <>
            <h3>Search attributes</h3>
            <Payload value={description.searchAttributes} />
          </>
        ) : null}
      </section>
      <section className="card">
        <h2>{closing?.type === 'WorkflowExecutionFailed' ? 'Failure' : 'Result'}</h2>
        {!closing ? <span className="muted">running…</span> : null}
        {closing?.type === 'WorkflowExecutionCompleted' ? <Payload value={closing.result} open /> : null}
        {closing?.type === 'WorkflowExecutionFailed' ? <Failure failure={closing.failure} /> : null}
        {closing?.type === 'WorkflowExecutionTerminated' ? (
          <p>terminated{closing.reason ? `: ${closing.reason}` : ''}</p>
        ) : null}
        {closing?.type === 'WorkflowExecutionCanceled' ? <p>canceled</p> : null}
        {closing?.type === 'WorkflowExecutionTimedOut' ? <p>timed out (run timeout)</p> : null}
        {closing?.type === 'WorkflowExecutionContinuedAsNew' ? (
          <div>
            continued as new:{' '}
            <RunLink workflowId={description.workflowId} runId={closing.newRunId}>
              {closing.newRunId}
            </RunLink>
            <Payload value={closing.args} />
          </div>
        ) : null}
      </section>
    </div>
  );
}
