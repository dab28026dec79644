/** The dev server's clock (docs/http-api.md, Time control): shown, and skipped forward. */
import { useState } from 'react';
import type { TimeInfo } from '../protocol/service.js';
import { api } from './api.js';
import { formatDuration, formatTime } from './format.js';

export function TimeControl({ time, onChange }: { time: TimeInfo; onChange: (t: TimeInfo) => void }) {
  const [open, setOpen] = useState(false);
  const [duration, setDuration] = useState('1h');
  const [error, setError] = useState('');
  const skip = async () => {
    setError('');
    try {
      onChange(await api.skipTime(duration));
      setOpen(false);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <span className="clock">
      <button type="button" className="link" onClick={() => setOpen(!open)} title="time control">
        clock {time.offsetMs > 0 ? `+${formatDuration(time.offsetMs)}` : 'real time'}
      </button>
      {open ? (
        <span className="popover">
          <span className="muted">workflows see {formatTime(time.now)}</span>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void skip();
            }}
          >
            <label>
              skip{' '}
              <input
                value={duration}
                onChange={(e) => setDuration(e.target.value)}
                aria-label="skip duration"
                size={8}
              />
            </label>{' '}
            <button type="submit">Skip time</button>
          </form>
          {error ? <span className="error">{error}</span> : null}
        </span>
      ) : null}
    </span>
  );
}
