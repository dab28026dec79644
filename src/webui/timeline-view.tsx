/** The history as rows on a time axis (activities with their attempts), and as the raw event list. */
import { Fragment, useState } from 'react';
import type { HistoryEvent } from '../protocol/service.js';
import { failureLine, formatDuration, formatTime } from './format.js';
import { Payload } from './payload.js';
import { navigate, runHref } from './routes.js';
import type { Timeline, TimelineRow } from './timeline.js';

function pct(t: number, start: number, span: number): number {
  return span <= 0 ? 0 : Math.min(100, Math.max(0, ((t - start) / span) * 100));
}

function Bar({ row, start, span, now }: { row: TimelineRow; start: number; span: number; now: number }) {
  const end = row.end ?? now;
  const left = pct(row.start, start, span);
  const width = Math.max(0.4, pct(end, start, span) - left);
  if (row.end === row.start && row.kind !== 'activity') {
    return <span className={`dot state-${row.state}`} style={{ left: `${left}%` }} />;
  }
  return (
    <>
      <span className={`bar state-${row.state}`} style={{ left: `${left}%`, width: `${width}%` }} />
      {row.attempts.map((a) => {
        const l = pct(a.start, start, span);
        const w = Math.max(0.3, pct(a.end ?? now, start, span) - l);
        return (
          <span
            key={a.attempt}
            className={`attempt outcome-${a.outcome}`}
            style={{ left: `${l}%`, width: `${w}%` }}
            title={`attempt ${a.attempt}: ${a.outcome}${a.failure ? ` (${failureLine(a.failure)})` : ''}`}
          />
        );
      })}
    </>
  );
}

function rowDuration(row: TimelineRow, now: number): string {
  if (row.end === row.start) return '';
  return formatDuration((row.end ?? now) - row.start) + (row.end === undefined ? '…' : '');
}

/** The fields of an event worth reading, without the ones every event has. */
function eventBody(e: HistoryEvent): Record<string, unknown> {
  const {
    eventId: _id,
    eventTime: _time,
    type: _type,
    ...rest
  } = e as HistoryEvent & Record<string, unknown>;
  return rest;
}

export function TimelineView({ timeline, now, open }: { timeline: Timeline; now: number; open: boolean }) {
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const end = open ? Math.max(now, timeline.end) : timeline.end;
  const span = Math.max(1, end - timeline.start);
  const toggle = (key: string) =>
    setExpanded((s) => {
      const copy = new Set(s);
      if (copy.has(key)) copy.delete(key);
      else copy.add(key);
      return copy;
    });
  return (
    <div className="timeline" data-testid="timeline">
      <div className="axis">
        <span>0</span>
        <span>{formatDuration(span / 2)}</span>
        <span>{formatDuration(span)}</span>
      </div>
      {timeline.rows.map((row) => (
        <Fragment key={row.key}>
          <button
            type="button"
            className="tl-row"
            onClick={() => toggle(row.key)}
            aria-expanded={expanded.has(row.key)}
          >
            <span className={`kind kind-${row.kind}`}>{row.kind}</span>
            <span className="tl-label">
              {row.label}
              {row.attempts.length > 1 ? <span className="muted"> ×{row.attempts.length}</span> : null}
            </span>
            <span className="track">
              <Bar row={row} start={timeline.start} span={span} now={now} />
            </span>
            <span className="tl-dur mono">{rowDuration(row, now)}</span>
          </button>
          {expanded.has(row.key) ? (
            <div className="tl-detail">
              {row.child ? (
                <p>
                  child run:{' '}
                  <a
                    href={runHref(row.child.workflowId, row.child.runId)}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate(runHref(row.child!.workflowId, row.child!.runId));
                    }}
                  >
                    {row.child.workflowId}
                  </a>
                </p>
              ) : null}
              {row.events.map((e) => (
                <div key={e.eventId} className="tl-event">
                  <span className="mono muted">
                    #{e.eventId} {formatTime(e.eventTime)}
                  </span>{' '}
                  <strong>{e.type}</strong>
                  <Payload value={eventBody(e)} />
                </div>
              ))}
            </div>
          ) : null}
        </Fragment>
      ))}
    </div>
  );
}

/** A long history shows its first and last events until asked for all (thousands of rows are slow to draw). */
const HEAD = 200;
const TAIL = 800;

export function EventsTable({ events }: { events: readonly HistoryEvent[] }) {
  const [all, setAll] = useState(false);
  const t0 = events[0] ? Date.parse(events[0].eventTime) : 0;
  const hidden = all ? 0 : Math.max(0, events.length - HEAD - TAIL);
  const shown = hidden === 0 ? events : [...events.slice(0, HEAD), ...events.slice(events.length - TAIL)];
  return (
    <table className="events">
      <thead>
        <tr>
          <th className="num">#</th>
          <th>Time</th>
          <th>+</th>
          <th>Type</th>
          <th>Details</th>
        </tr>
      </thead>
      <tbody>
        {shown.map((e, i) => (
          <Fragment key={e.eventId}>
            {hidden > 0 && i === HEAD ? (
              <tr>
                <td colSpan={5} className="gap">
                  {hidden.toLocaleString('en-US')} events not shown{' '}
                  <button type="button" onClick={() => setAll(true)}>
                    Show all {events.length.toLocaleString('en-US')}
                  </button>
                </td>
              </tr>
            ) : null}
            <tr data-testid="event-row">
              <td className="num">{e.eventId}</td>
              <td className="mono">{formatTime(e.eventTime)}</td>
              <td className="mono muted">{formatDuration(Date.parse(e.eventTime) - t0)}</td>
              <td className="etype">{e.type}</td>
              <td>
                <Payload value={eventBody(e)} />
              </td>
            </tr>
          </Fragment>
        ))}
      </tbody>
    </table>
  );
}
