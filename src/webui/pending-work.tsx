/** What an open run waits on: its activities (attempt, last failure, next retry) and its timers. */
import { useState } from 'react';
import type { RunDescription, RunRef } from '../protocol/service.js';
import { api, type SourceFrame } from './api.js';
import { CallSiteView } from './code-frame.js';
import { failureLine, formatTime, relative } from './format.js';

export function PendingActivities({
  activities,
  nextRetry,
  frames,
  now,
}: {
  activities: RunDescription['pendingActivities'];
  /** When each activity (by seq) starts its next attempt, if it waits to retry (epoch ms). */
  nextRetry: Map<number, number>;
  frames: Map<string, SourceFrame>;
  now: number;
}) {
  if (activities.length === 0) return null;
  return (
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
          {activities.map((a) => {
            const retryAt = nextRetry.get(a.seq);
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
  );
}

export function PendingTimers({
  timers,
  target,
  timeControl,
  frames,
  now,
}: {
  timers: RunDescription['pendingTimers'];
  target: Required<RunRef>;
  /** The server fires timers by hand (wf dev): offer Fire now. */
  timeControl: boolean;
  frames: Map<string, SourceFrame>;
  now: number;
}) {
  const [error, setError] = useState('');
  if (timers.length === 0) return null;
  const fire = async (seq: number) => {
    setError('');
    try {
      await api.fireTimer(target, seq);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <section className="card">
      <h2>Pending timers</h2>
      {error ? <p className="error">{error}</p> : null}
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
          {timers.map((t) => (
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
  );
}
