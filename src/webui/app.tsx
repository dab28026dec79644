/** The page: header, connection banner, and the runs list or one run, by address. */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { TimeInfo } from '../protocol/service.js';
import { ApiError, api, type ServerInfo, storeToken } from './api.js';
import { openEventStream, type StreamStatus } from './event-stream.js';
import { ClockOffsetContext, LiveContext, NoticeBus } from './live.js';
import { backToRunsHref, navigate, runsHref, useRoute } from './routes.js';
import { RunPage } from './run-page.js';
import { RunsPage } from './runs-page.js';
import { SchedulesPage } from './schedules-page.js';
import { TimeControl } from './time-control.js';
import { TokenForm } from './token-form.js';

export function App() {
  const route = useRoute();
  const bus = useMemo(() => new NoticeBus(), []);
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const [needToken, setNeedToken] = useState(false);
  const [streamKey, setStreamKey] = useState(0);
  const [info, setInfo] = useState<ServerInfo | undefined>();
  const [time, setTime] = useState<TimeInfo | undefined>();
  const wasDown = useRef(false);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new streamKey (a token was entered) reopens the stream
  useEffect(() => {
    const close = openEventStream({
      onNotice: (notice) => bus.emit(notice),
      onStatus: (next) => {
        setStatus(next);
        if (next === 'unauthorized') setNeedToken(true);
        if (next === 'down') wasDown.current = true;
        if (next === 'live' && wasDown.current) {
          wasDown.current = false;
          bus.reconnected();
        }
      },
    });
    return close;
  }, [bus, streamKey]);

  // What the server offers (workflow types, time control): read again after a reconnect, since a
  // restarted server may run other code; the clock every 10 s, since `wf time skip` moves it.
  const loadInfo = useCallback(() => {
    api.info().then(setInfo, (error: unknown) => {
      if (error instanceof ApiError && error.status === 401) setNeedToken(true);
    });
  }, []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new streamKey (a token was entered) reads it again
  useEffect(() => {
    loadInfo();
    return bus.onReconnect(loadInfo);
  }, [bus, loadInfo, streamKey]);
  const timeControl = info?.timeControl === true;
  useEffect(() => {
    if (!timeControl) return;
    // Without an answer, real time (offset 0) rather than no page at all.
    const load = () =>
      api.time().then(setTime, () => setTime((t) => t ?? { now: new Date().toISOString(), offsetMs: 0 }));
    void load();
    const timer = setInterval(() => void load(), 10_000);
    return () => clearInterval(timer);
  }, [timeControl]);

  const onToken = (token: string) => {
    storeToken(token);
    setNeedToken(false);
    setStreamKey((k) => k + 1);
  };

  useEffect(() => {
    document.title =
      route.page === 'run'
        ? `${route.workflowId} · wf`
        : route.page === 'runs'
          ? 'Runs · wf'
          : route.page === 'schedules'
            ? 'Schedules · wf'
            : 'wf';
  }, [route]);

  return (
    <LiveContext.Provider value={bus}>
      <ClockOffsetContext.Provider value={time?.offsetMs ?? 0}>
        <header className="top">
          <a
            className="brand"
            href="/"
            onClick={(e) => {
              e.preventDefault();
              navigate(runsHref({}));
            }}
          >
            wf
          </a>
          <nav className="nav">
            {(
              [
                ['runs', '/', 'Runs'],
                ['schedules', '/schedules', 'Schedules'],
              ] as const
            ).map(([page, href, label]) => (
              <a
                key={page}
                href={href}
                className={
                  route.page === page || (page === 'runs' && route.page === 'run') ? 'active' : undefined
                }
                onClick={(e) => {
                  e.preventDefault();
                  navigate(page === 'runs' ? backToRunsHref() : href);
                }}
              >
                {label}
              </a>
            ))}
          </nav>
          <span className="grow" />
          {timeControl && time ? <TimeControl time={time} onChange={setTime} /> : null}
          <span className={`live live-${status}`} title="the live event stream">
            {status === 'live'
              ? 'live'
              : status === 'connecting'
                ? 'connecting…'
                : status === 'down'
                  ? 'offline'
                  : 'locked'}
          </span>
        </header>
        {status === 'down' ? (
          <div className="banner" role="alert">
            The server is not answering (stopped or restarting). Reconnecting… Pages catch up once it is back.
          </div>
        ) : null}
        {needToken ? (
          <TokenForm onToken={onToken} />
        ) : !info || (info.timeControl && !time) ? (
          // Pages wait for the server's clock: times after `wf time skip` are read against it.
          <main>
            <p className="muted">{status === 'down' ? '' : 'Loading…'}</p>
          </main>
        ) : (
          <main>
            {route.page === 'runs' ? (
              <RunsPage
                route={route}
                types={info?.workflowTypes ?? []}
                onUnauthorized={() => setNeedToken(true)}
              />
            ) : route.page === 'schedules' ? (
              <SchedulesPage available={info?.schedules === true} onUnauthorized={() => setNeedToken(true)} />
            ) : route.page === 'run' ? (
              <RunPage
                key={`${route.workflowId}\u0000${route.runId ?? ''}`}
                workflowId={route.workflowId}
                {...(route.runId ? { runId: route.runId } : {})}
                timeControl={timeControl}
                onUnauthorized={() => setNeedToken(true)}
              />
            ) : (
              <p className="empty">
                No page at {route.path}.{' '}
                <a
                  href="/"
                  onClick={(e) => {
                    e.preventDefault();
                    navigate('/');
                  }}
                >
                  See the runs
                </a>
              </p>
            )}
          </main>
        )}
      </ClockOffsetContext.Provider>
    </LiveContext.Provider>
  );
}
