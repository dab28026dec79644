/**
 * The runs, newest first, a page at a time (the server pages), filtered by status and type and
 * searched by workflow ID prefix. Live: events update the rows shown; a new run refreshes page one.
 * Keys: j/k or arrows move, Enter opens, / searches, n/p page.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { CLOSING_STATUS, RUN_STATUSES } from '../common/run-status.js';
import type { EventNotice, RunSummary } from '../protocol/service.js';
import { ApiError, api } from './api.js';
import { formatTime, runDuration, shownStatus } from './format.js';
import { useNotices, useNow, useReconnect } from './live.js';
import { navigate, type Route, rememberRunsHref, runHref, runsHref } from './routes.js';
import { StartWorkflow } from './start-workflow.js';

/** The status filter's choices: the run statuses, with PAUSED (a running run stopped on its code) after RUNNING. */
const STATUSES = [RUN_STATUSES[0], 'PAUSED', ...RUN_STATUSES.slice(1)];
const PAGE_SIZE = 50;

type RunsRoute = Extract<Route, { page: 'runs' }>;

export function RunsPage({
  route,
  types,
  onUnauthorized,
}: {
  route: RunsRoute;
  /** The workflow types the server's code exports. */
  types: string[];
  onUnauthorized: () => void;
}) {
  const [runs, setRuns] = useState<RunSummary[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState('');
  /** Tokens of the pages before this one, and of this one (undefined: the first page). */
  const [pages, setPages] = useState<(string | undefined)[]>([undefined]);
  const [next, setNext] = useState<string | undefined>();
  const [selected, setSelected] = useState(0);
  const [starting, setStarting] = useState(false);
  const [searchText, setSearchText] = useState(route.search);
  const [queryText, setQueryText] = useState(route.query);
  const searchRef = useRef<HTMLInputElement>(null);
  const now = useNow();
  const token = pages.at(-1);
  // PAUSED is RUNNING with a pause reason: ask for RUNNING, keep the paused ones.
  const serverStatus = route.status === 'PAUSED' ? 'RUNNING' : route.status;

  const load = useCallback(async () => {
    try {
      const page = await api.list({
        ...(serverStatus ? { status: serverStatus } : {}),
        ...(route.type ? { type: route.type } : {}),
        ...(route.search ? { search: route.search } : {}),
        ...(route.query ? { query: route.query } : {}),
        pageSize: PAGE_SIZE,
        ...(token ? { nextPageToken: token } : {}),
      });
      setRuns(route.status === 'PAUSED' ? page.runs.filter((r) => r.paused) : page.runs);
      setNext(page.nextPageToken);
      setError('');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) onUnauthorized();
      setError((e as Error).message);
    } finally {
      setLoaded(true);
    }
  }, [serverStatus, route.status, route.type, route.search, route.query, token, onUnauthorized]);

  useEffect(() => {
    rememberRunsHref(
      runsHref({ status: route.status, type: route.type, search: route.search, query: route.query }),
    );
    setPages([undefined]);
    setSelected(0);
    setSearchText(route.search);
    setQueryText(route.query);
  }, [route.status, route.type, route.search, route.query]);

  useEffect(() => {
    void load();
  }, [load]);

  // New runs show on page one within a moment; pauses and resumes (which record no event) within 5 s.
  const refresh = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const scheduleRefresh = useCallback(
    (delay: number) => {
      if (refresh.current) return;
      refresh.current = setTimeout(() => {
        refresh.current = undefined;
        void load();
      }, delay);
    },
    [load],
  );
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') scheduleRefresh(0);
    }, 5000);
    return () => {
      clearInterval(timer);
      if (refresh.current) clearTimeout(refresh.current);
      refresh.current = undefined;
    };
  }, [scheduleRefresh]);
  useReconnect(() => scheduleRefresh(0));
  useNotices((notice: EventNotice) => {
    if (notice.event.type === 'WorkflowExecutionStarted') {
      if (token === undefined) scheduleRefresh(150);
      return;
    }
    setRuns((rows) => {
      const i = rows.findIndex((r) => r.runId === notice.runId && r.workflowId === notice.workflowId);
      if (i === -1) return rows;
      const row = rows[i]!;
      const status = CLOSING_STATUS[notice.event.type];
      const updated: RunSummary = {
        ...row,
        historyLength: Math.max(row.historyLength, notice.event.eventId),
        ...(status ? { status, closeTime: notice.event.eventTime } : {}),
      };
      if (status) delete updated.paused;
      const copy = rows.slice();
      copy[i] = updated;
      return copy;
    });
  });

  const setFilters = (f: { status?: string; type?: string; search?: string; query?: string }) =>
    navigate(
      runsHref({ status: route.status, type: route.type, search: route.search, query: route.query, ...f }),
    );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
      if (typing) {
        if (e.key === 'Escape') target.blur();
        return;
      }
      if (e.metaKey || e.ctrlKey || e.altKey || starting) return;
      if (e.key === 'j' || e.key === 'ArrowDown') {
        setSelected((s) => Math.min(s + 1, Math.max(0, runs.length - 1)));
        e.preventDefault();
      } else if (e.key === 'k' || e.key === 'ArrowUp') {
        setSelected((s) => Math.max(s - 1, 0));
        e.preventDefault();
      } else if (e.key === 'Enter' && !/^(BUTTON|A)$/.test(target.tagName)) {
        const run = runs[selected];
        if (run) navigate(runHref(run.workflowId, run.runId));
      } else if (e.key === '/') {
        searchRef.current?.focus();
        e.preventDefault();
      } else if (e.key === 'n' && next) {
        setPages((p) => [...p, next]);
        setSelected(0);
      } else if (e.key === 'p' && pages.length > 1) {
        setPages((p) => p.slice(0, -1));
        setSelected(0);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [runs, selected, next, pages.length, starting]);

  useEffect(() => {
    document.querySelectorAll('tr[data-testid="run-row"]')[selected]?.scrollIntoView({ block: 'nearest' });
  }, [selected]);

  const allTypes = [...new Set([...types, ...(route.type ? [route.type] : [])])].sort();

  return (
    <section>
      <div className="toolbar">
        <h1>Runs</h1>
        <form
          className="search"
          onSubmit={(e) => {
            e.preventDefault();
            setFilters({ search: searchText.trim() });
          }}
        >
          <input
            ref={searchRef}
            type="search"
            placeholder="Workflow ID starts with…  ( / )"
            aria-label="search by workflow ID"
            value={searchText}
            onChange={(e) => setSearchText(e.target.value)}
          />
        </form>
        <form
          className="search query"
          onSubmit={(e) => {
            e.preventDefault();
            setFilters({ query: queryText.trim() });
          }}
        >
          <input
            type="search"
            placeholder='List query: CustomerId = "c-1"'
            aria-label="list query"
            title="Temporal's list syntax: =, !=, <, >, IN (...), STARTS_WITH, AND, OR, NOT over WorkflowId, WorkflowType, ExecutionStatus, StartTime, CloseTime and search attributes"
            value={queryText}
            onChange={(e) => setQueryText(e.target.value)}
          />
        </form>
        <select
          aria-label="status"
          value={route.status}
          onChange={(e) => setFilters({ status: e.target.value })}
        >
          <option value="">any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <select
          aria-label="workflow type"
          value={route.type}
          onChange={(e) => setFilters({ type: e.target.value })}
        >
          <option value="">any type</option>
          {allTypes.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <span className="grow" />
        <button type="button" onClick={() => setStarting(true)}>
          Start workflow
        </button>
      </div>
      {starting ? <StartWorkflow types={types} onClose={() => setStarting(false)} /> : null}
      {error ? <p className="error">{error}</p> : null}
      <table className="runs">
        <thead>
          <tr>
            <th>Status</th>
            <th>Workflow ID</th>
            <th>Type</th>
            <th>Run ID</th>
            <th>Start</th>
            <th>Duration</th>
            <th className="num">Events</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run, i) => {
            const status = shownStatus(run);
            const href = runHref(run.workflowId, run.runId);
            return (
              <tr
                key={`${run.workflowId}\u0000${run.runId}`}
                className={i === selected ? 'selected' : undefined}
                onClick={() => setSelected(i)}
                data-testid="run-row"
              >
                <td>
                  <span className={`status status-${status}`} title={run.paused?.reason}>
                    {status}
                  </span>
                  {run.paused ? <div className="pause-reason">{run.paused.reason.split('\n')[0]}</div> : null}
                </td>
                <td className="id">
                  <a
                    href={href}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate(href);
                    }}
                  >
                    {run.workflowId}
                  </a>
                </td>
                <td>{run.workflowType}</td>
                <td className="mono muted">{run.runId.slice(0, 8)}</td>
                <td className="mono">{formatTime(run.startTime)}</td>
                <td className="mono">{runDuration(run, now)}</td>
                <td className="num">{run.historyLength}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {loaded && runs.length === 0 && !error ? (
        <p className="empty">
          {route.status || route.type || route.search || route.query
            ? 'No run matches these filters.'
            : 'No runs yet. Start one with "Start workflow", `wf start`, or from your code.'}
        </p>
      ) : null}
      <div className="pager">
        <button
          type="button"
          disabled={pages.length <= 1}
          onClick={() => {
            setPages((p) => p.slice(0, -1));
            setSelected(0);
          }}
        >
          ← Newer
        </button>
        <span className="muted">page {pages.length}</span>
        <button
          type="button"
          disabled={!next}
          onClick={() => {
            setPages((p) => [...p, next]);
            setSelected(0);
          }}
        >
          Older →
        </button>
        <span className="muted keys">j/k move · Enter open · / search · n/p page</span>
      </div>
    </section>
  );
}
