/**
 * One run: what it was given and how it ended, what it waits on (with the source line of each
 * await), why it is paused, who started it and whom it started, its history on a time axis, and
 * the actions. Live: events of this run are appended as they are recorded. Esc goes back.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { EventNotice, HistoryEvent, RunDescription, RunSummary } from '../protocol/service.js';
import { ApiError, api, type SourceFrame } from './api.js';
import { siteKey } from './code-frame.js';
import { formatTime, runDuration, shownStatus } from './format.js';
import { useNotices, useNow, useReconnect } from './live.js';
import { PausedReport } from './paused-report.js';
import { CopyButton } from './payload.js';
import { PendingActivities, PendingTimers } from './pending-work.js';
import { RelatedRuns } from './related-runs.js';
import { backToRunsHref, navigate, runHref } from './routes.js';
import { RunActions } from './run-actions.js';
import { RunOutcome } from './run-outcome.js';
import { buildTimeline } from './timeline.js';
import { EventsTable, TimelineView } from './timeline-view.js';

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
  const nextRetry = new Map<number, number>();
  for (const row of timeline.rows) {
    if (row.kind === 'activity' && row.seq !== undefined && row.nextRetryAt)
      nextRetry.set(row.seq, row.nextRetryAt);
  }

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

      {description.paused ? <PausedReport paused={description.paused} frames={frames} /> : null}

      {description.corruption ? (
        <section className="card failure">
          <h2>Corrupt history</h2>
          <p>
            {description.corruption.file}:{description.corruption.line}: {description.corruption.message}
          </p>
        </section>
      ) : null}

      <RunOutcome description={description} started={started} closing={closing} />

      <PendingActivities
        activities={description.pendingActivities}
        nextRetry={nextRetry}
        frames={frames}
        now={now}
      />
      <PendingTimers
        timers={description.pendingTimers}
        target={target}
        timeControl={timeControl}
        frames={frames}
        now={now}
      />

      <RelatedRuns
        description={description}
        started={started}
        childRows={timeline.rows.filter((r) => r.child)}
        siblings={siblings}
      />

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
