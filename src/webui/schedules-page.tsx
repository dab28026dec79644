/**
 * The schedules (Temporal's Schedules, `wf schedule`): when each fires, what it starts, what it did
 * lately (with links to the runs), and pause, unpause, trigger now and delete.
 */
import { useCallback, useEffect, useState } from 'react';
import type { ScheduleDescription, ScheduleSpec } from '../common/schedules.js';
import { ApiError, api } from './api.js';
import { formatDuration, formatTime } from './format.js';
import { useNow } from './live.js';
import { navigate, runHref } from './routes.js';

function specText(spec: ScheduleSpec): string {
  const parts = [
    ...(spec.cronExpressions ?? []).map((c) => `cron ${c}`),
    ...(spec.intervals ?? []).map(
      (i) => `every ${formatDuration(i.everyMs)}${i.offsetMs ? ` + ${formatDuration(i.offsetMs)}` : ''}`,
    ),
  ];
  return parts.join(', ') || '—';
}

function ScheduleRow({ schedule, onChange }: { schedule: ScheduleDescription; onChange: () => void }) {
  const [error, setError] = useState('');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const act = async (action: 'pause' | 'unpause' | 'trigger' | 'delete') => {
    setError('');
    try {
      await api.scheduleAction(schedule.scheduleId, action);
      onChange();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <tr data-testid="schedule-row">
      <td className="id">
        <strong>{schedule.scheduleId}</strong>
        {schedule.state.paused ? (
          <div>
            <span className="status status-PAUSED">PAUSED</span>{' '}
            {schedule.state.note ? <span className="muted">{schedule.state.note}</span> : null}
          </div>
        ) : null}
      </td>
      <td>
        {schedule.action.workflowType}
        <div className="muted mono">{schedule.action.workflowId}-…</div>
      </td>
      <td>
        {specText(schedule.spec)}
        <div className="muted">overlap {schedule.policies.overlap}</div>
      </td>
      <td className="mono">
        {schedule.nextActionTimes.slice(0, 3).map((t) => (
          <div key={t}>{formatTime(t)}</div>
        ))}
      </td>
      <td>
        {schedule.recentActions
          .slice(-3)
          .reverse()
          .map((a) => (
            <div key={`${a.scheduledAt}-${a.takenAt}`}>
              {a.runId ? (
                <a
                  href={runHref(a.workflowId, a.runId)}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(runHref(a.workflowId, a.runId));
                  }}
                >
                  {a.workflowId}
                </a>
              ) : (
                <span>{a.workflowId}</span>
              )}{' '}
              <span className="muted">{a.outcome}</span>
            </div>
          ))}
      </td>
      <td className="buttons">
        {schedule.state.paused ? (
          <button type="button" onClick={() => void act('unpause')}>
            Unpause
          </button>
        ) : (
          <button type="button" onClick={() => void act('pause')}>
            Pause
          </button>
        )}{' '}
        <button type="button" onClick={() => void act('trigger')}>
          Trigger now
        </button>{' '}
        {confirmDelete ? (
          <button type="button" className="danger" onClick={() => void act('delete')}>
            Really delete?
          </button>
        ) : (
          <button type="button" onClick={() => setConfirmDelete(true)}>
            Delete
          </button>
        )}
        {error ? <div className="error">{error}</div> : null}
      </td>
    </tr>
  );
}

export function SchedulesPage({
  available,
  onUnauthorized,
}: {
  available: boolean;
  onUnauthorized: () => void;
}) {
  const [schedules, setSchedules] = useState<ScheduleDescription[] | undefined>();
  const [error, setError] = useState('');
  const now = useNow(5000);
  const load = useCallback(async () => {
    try {
      setSchedules(await api.schedules());
      setError('');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) onUnauthorized();
      setError((e as Error).message);
    }
  }, [onUnauthorized]);
  // Read again every 5 s (fires and their runs are not in the event stream as schedule changes).
  // biome-ignore lint/correctness/useExhaustiveDependencies: `now` ticks every 5 s to read again
  useEffect(() => {
    if (available) void load();
  }, [available, load, now]);
  if (!available) return <p className="empty">This server keeps no schedules.</p>;
  return (
    <section>
      <div className="toolbar">
        <h1>Schedules</h1>
        <span className="muted">
          create them with <code>wf schedule create</code> or <code>client.schedule.create()</code>
        </span>
      </div>
      {error ? <p className="error">{error}</p> : null}
      {schedules && schedules.length === 0 ? <p className="empty">No schedules.</p> : null}
      {schedules && schedules.length > 0 ? (
        <table className="schedules">
          <thead>
            <tr>
              <th>Schedule</th>
              <th>Starts</th>
              <th>When</th>
              <th>Next</th>
              <th>Recent runs</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {schedules.map((s) => (
              <ScheduleRow key={s.scheduleId} schedule={s} onChange={() => void load()} />
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
