/**
 * One run: what it was given and how it ended, what it waits on (with the source line of each
 * await), why it is paused, who started it and whom it started, its history on a time axis, and
 * the actions. Live: events of this run are appended as they are recorded. Esc goes back.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { EventNotice, HistoryEvent, RunDescription, RunSummary } from '../protocol/service.js';
import { ApiError, api, type SourceFrame } from './api.js';
import { CallSiteView, siteKey } from './code-frame.js';
import { failureChain, failureLine, formatTime, relative, runDuration, shownStatus } from './format.js';
import { useNotices, useNow, useReconnect } from './live.js';
import { CopyButton, Payload } from './payload.js';
import { backToRunsHref, navigate, runHref } from './routes.js';
import { RunActions } from './run-actions.js';
import { buildTimeline, failingStep } from './timeline.js';
import { EventsTable, TimelineView } from './timeline-view.js';

/** `at src/workflows/order.ts:12` in a pause reason: the two sides of a divergence. */
const SITE_IN_TEXT = / at ([^\s()]+?):(\d+)(?::(\d+))?(?=[\s),;]|$)/g;

export function sitesInText(text: string): { file: string; line: number; column?: number }[] {
  const out: { file: string; line: number; column?: number }[] = [];
  for (const m of text.matchAll(SITE_IN_TEXT)) {
    out.push({ file: m[1]!, line: Number(m[2]), ...(m[3] ? { column: Number(m[3]) } : {}) });
  }
  return out;
}

function RunLink({ workflowId, runId, children }: { workflowId: string; runId?: string; children: string }) {
  const href = runHref(workflowId, runId);
  return (
    <a
      href={href}
      onClick={(e) => {
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

export function RunPage({
  workflowId,
  runId,
  timeControl,
  onUnauthorized,
}: {
  workflowId: string;
  runId?: string;
  timeControl: boolean;
  onUnauthorized: () => void;
}) {
  const [description, setDescription] = useState<RunDescription | undefined>();
  const [events, setEvents] = useState<HistoryEvent[]>([]);
  const [frames, setFrames] = useState<Map<string, SourceFrame>>(new Map());
  const [siblings, setSiblings] = useState<RunSummary[]>([]);
  const [error, setError] = useState('');
  const [view, setView] = useState<'timeline' | 'events'>('timeline');
  const [fireError, setFireError] = useState('');
  const now = useNow();
  const ref = useMemo(() => (runId ? { workflowId, runId } : { workflowId }), [workflowId, runId]);
  const eventsRef = useRef(events);
  eventsRef.current = events;

  const fail = useCallback(
    (e: unknown) => {
      if (e instanceof ApiError && e.status === 401) onUnauthorized();
      setError((e as Error).message);
    },
    [onUnauthorized],
  );

  const loadHistory = useCallback(async () => {
    try {
      setEvents(await api.history(ref));
    } catch (e) {
      fail(e);
    }
  }, [ref, fail]);

  const loadDescription = useCallback(async () => {
    try {
      const d = await api.describe(ref);
      setDescription(d);
      setError('');
      if (!runId) navigate(runHref(d.workflowId, d.runId), { replace: true });
      // An event may have slipped between the first reads and the live feed: read the history again.
      if (d.historyLength > eventsRef.current.length) void loadHistory();
      const hasSites =
        d.paused || d.pendingActivities.some((a) => a.callSite) || d.pendingTimers.some((t) => t.callSite);
      if (hasSites) {
        const list = await api.source({ workflowId: d.workflowId, runId: d.runId }).catch(() => []);
        setFrames(new Map(list.map((f) => [siteKey(f.file, f.line), f])));
      }
    } catch (e) {
      fail(e);
    }
  }, [ref, runId, fail, loadHistory]);

  const loadSiblings = useCallback(() => {
    api.runsOf(workflowId).then(
      (r) => setSiblings(r.runs),
      () => setSiblings([]),
    );
  }, [workflowId]);

  useEffect(() => {
    void loadDescription();
    void loadHistory();
    loadSiblings();
  }, [loadDescription, loadHistory, loadSiblings]);

  // A pause or a resume records no event: while the run is open, read its description every 2 s.
  const running = description?.status === 'RUNNING';
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void loadDescription();
    }, 2000);
    return () => clearInterval(timer);
  }, [running, loadDescription]);

  const pendingDescribe = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(pendingDescribe.current), []);
  useNotices((notice: EventNotice) => {
    if (notice.workflowId !== workflowId) return;
    const thisRun = description ? notice.runId === description.runId : notice.runId === runId;
    if (!thisRun) {
      if (notice.event.type === 'WorkflowExecutionStarted') loadSiblings();
      return;
    }
    const current = eventsRef.current;
    if (notice.event.eventId === current.length + 1) setEvents([...current, notice.event]);
    else if (notice.event.eventId > current.length) void loadHistory();
    if (!pendingDescribe.current) {
      pendingDescribe.current = setTimeout(() => {
        pendingDescribe.current = undefined;
        void loadDescription();
      }, 100);
    }
  });
  useReconnect(() => {
    void loadDescription();
    void loadHistory();
  });

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (/^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) {
        if (e.key === 'Escape') target.blur();
        return;
      }
      if (e.key === 'Escape') navigate(backToRunsHref());
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const timeline = useMemo(() => buildTimeline(events), [events]);

  if (!description) {
    return <section>{error ? <p className="error">{error}</p> : <p className="muted">Loading…</p>}</section>;
  }
  const started = events[0]?.type === 'WorkflowExecutionStarted' ? events[0] : undefined;
  const closing = description.status !== 'RUNNING' ? events.at(-1) : undefined;
  const status = shownStatus(description);
  const open = description.status === 'RUNNING';
  const target = { workflowId: description.workflowId, runId: description.runId };
  const retries = new Map(
    timeline.rows.filter((r) => r.kind === 'activity' && r.nextRetryAt).map((r) => [r.key, r.nextRetryAt!]),
  );
  const children = timeline.rows.filter((r) => r.child);
  const pausedSites = description.paused
    ? [
        ...sitesInText(description.paused.reason),
        ...(description.paused.callSite ? [description.paused.callSite] : []),
      ].filter((s, i, all) => all.findIndex((o) => o.file === s.file && o.line === s.line) === i)
    : [];

  const fire = async (seq: number) => {
    setFireError('');
    try {
      await api.fireTimer(target, seq);
    } catch (e) {
      setFireError((e as Error).message);
    }
  };

  return (
    <section className="run">
      <div className="run-head">
        <a
          href={backToRunsHref()}
          className="muted"
          onClick={(e) => {
            e.preventDefault();
            navigate(backToRunsHref());
          }}
        >
          ← Runs (Esc)
        </a>
        <h1>
          <span className="id" data-testid="workflow-id">
            {description.workflowId}
          </span>{' '}
          <CopyButton text={description.workflowId} label="Copy ID" />
        </h1>
        <div className="facts">
          <span className={`status status-${status}`} data-testid="run-status">
            {status}
          </span>
          <span>
            type <strong>{description.workflowType}</strong>
          </span>
          <span className="mono">
            run {description.runId} <CopyButton text={description.runId} />
          </span>
          <span>started {formatTime(description.startTime)}</span>
          {description.closeTime ? <span>closed {formatTime(description.closeTime)}</span> : null}
          <span>duration {runDuration(description, now)}</span>
          <span>{description.historyLength} events</span>
          {description.buildId ? <span className="muted">build {description.buildId}</span> : null}
        </div>
      </div>
      {error ? <p className="error">{error}</p> : null}

      {description.paused ? (
        <section className="card paused" data-testid="paused-report">
          <h2>Paused: its code no longer replays this history</h2>
          <pre className="reason">{description.paused.reason}</pre>
          {pausedSites.map((site) => (
            <CallSiteView key={siteKey(site.file, site.line)} site={site} frames={frames} />
          ))}
          <p className="muted">
            Source lines are shown as the code reads now. Undo the change (or guard it with{' '}
            <code>patched()</code>) and save: the reload resumes the run.
          </p>
        </section>
      ) : null}

      {description.corruption ? (
        <section className="card failure">
          <h2>Corrupt history</h2>
          <p>
            {description.corruption.file}:{description.corruption.line}: {description.corruption.message}
          </p>
        </section>
      ) : null}

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
          {closing?.type === 'WorkflowExecutionFailed' ? (
            <div className="failure" data-testid="failure">
              {(() => {
                const step = failingStep(closing.failure);
                return step.activityType ? (
                  <p>
                    failing activity: <strong>{step.activityType}</strong>
                  </p>
                ) : step.workflowType ? (
                  <p>
                    failing child workflow: <strong>{step.workflowType}</strong>
                  </p>
                ) : null;
              })()}
              {failureChain(closing.failure).map((f, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: a failure's chain of causes never reorders
                <details key={i} open={i === 0}>
                  <summary>{(i > 0 ? 'caused by ' : '') + failureLine(f)}</summary>
                  {f.stack ? <pre className="stack">{f.stack}</pre> : null}
                  {f.details?.length ? <Payload value={f.details} /> : null}
                </details>
              ))}
            </div>
          ) : null}
          {closing?.type === 'WorkflowExecutionTerminated' ? (
            <p>terminated{closing.reason ? `: ${closing.reason}` : ''}</p>
          ) : null}
          {closing?.type === 'WorkflowExecutionCanceled' ? <p>canceled</p> : null}
          {closing?.type === 'WorkflowExecutionTimedOut' ? <p>timed out (run timeout)</p> : null}
          {closing?.type === 'WorkflowExecutionContinuedAsNew' ? (
            <p>
              continued as new:{' '}
              <RunLink workflowId={description.workflowId} runId={closing.newRunId}>
                {closing.newRunId}
              </RunLink>
              <Payload value={closing.args} />
            </p>
          ) : null}
        </section>
      </div>

      {description.pendingActivities.length > 0 ? (
        <section className="card">
          <h2>Pending activities</h2>
          <table className="pending">
            <thead>
              <tr>
                <th>#</th>
                <th>Activity</th>
                <th>Attempt</th>
                <th>Last failure</th>
                <th>Next retry</th>
                <th>Awaited at</th>
              </tr>
            </thead>
            <tbody>
              {description.pendingActivities.map((a) => {
                const retryAt = retries.get(`activity-${a.seq}`);
                return (
                  <tr key={a.seq}>
                    <td className="num">{a.seq}</td>
                    <td>{a.activityType}</td>
                    <td className="num">{a.attempt}</td>
                    <td>{a.lastFailure ? failureLine(a.lastFailure) : '—'}</td>
                    <td>{retryAt ? relative(new Date(retryAt).toISOString(), now) : '—'}</td>
                    <td>{a.callSite ? <CallSiteView site={a.callSite} frames={frames} /> : '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      ) : null}

      {description.pendingTimers.length > 0 ? (
        <section className="card">
          <h2>Pending timers</h2>
          {fireError ? <p className="error">{fireError}</p> : null}
          <table className="pending">
            <thead>
              <tr>
                <th>#</th>
                <th>Fires at</th>
                <th>Awaited at</th>
                {timeControl ? <th /> : null}
              </tr>
            </thead>
            <tbody>
              {description.pendingTimers.map((t) => (
                <tr key={t.seq}>
                  <td className="num">{t.seq}</td>
                  <td>
                    {formatTime(t.fireAt)} <span className="muted">({relative(t.fireAt, now)})</span>
                  </td>
                  <td>{t.callSite ? <CallSiteView site={t.callSite} frames={frames} /> : '—'}</td>
                  {timeControl ? (
                    <td>
                      <button type="button" onClick={() => void fire(t.seq)}>
                        Fire now
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}

      {started?.parent || started?.continuedFromRunId || children.length > 0 || siblings.length > 1 ? (
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
            {children.map((c) => (
              <li key={c.key}>
                child workflow ({c.label}):{' '}
                <RunLink
                  workflowId={c.child!.workflowId}
                  {...(c.child!.runId ? { runId: c.child!.runId } : {})}
                >
                  {c.child!.workflowId}
                </RunLink>
              </li>
            ))}
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
      ) : null}

      <RunActions target={target} open={open} events={events} />

      <section className="card">
        <div className="tabs" role="tablist">
          <button
            type="button"
            role="tab"
            aria-selected={view === 'timeline'}
            className={view === 'timeline' ? 'tab active' : 'tab'}
            onClick={() => setView('timeline')}
          >
            timeline
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={view === 'events'}
            className={view === 'events' ? 'tab active' : 'tab'}
            onClick={() => setView('events')}
          >
            events ({events.length})
          </button>
        </div>
        {view === 'timeline' ? (
          <TimelineView timeline={timeline} now={now} open={open} />
        ) : (
          <EventsTable events={events} />
        )}
      </section>
    </section>
  );
}
