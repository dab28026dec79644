/** Times, durations and values as the pages show them. */
import { formatDuration } from '../common/format-duration.js';
import type { FailureInfo, RunSummary } from '../protocol/service.js';

export { formatDuration };

export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** A run's duration: to its close, or to `now` while it runs. */
export function runDuration(run: Pick<RunSummary, 'startTime' | 'closeTime'>, now: number): string {
  const start = Date.parse(run.startTime);
  const end = run.closeTime ? Date.parse(run.closeTime) : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return '';
  return formatDuration(Math.max(0, end - start));
}

/** `in 5m` / `3s ago` from `now`. */
export function relative(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const d = t - now;
  return d >= 0 ? `in ${formatDuration(d)}` : `${formatDuration(-d)} ago`;
}

/** A value as one line of JSON, cut at `max` characters. */
export function summarize(value: unknown, max = 120): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function pretty(value: unknown): string {
  try {
    return value === undefined ? 'undefined' : (JSON.stringify(value, null, 2) ?? String(value));
  } catch {
    return String(value);
  }
}

/** `ApplicationFailure(CardDeclined): card declined`. */
export function failureLine(f: FailureInfo): string {
  const kind = f.type && f.type !== f.name ? `${f.name}(${f.type})` : f.name;
  return `${kind}: ${f.message}`;
}

/** The failure and its causes, outermost first. */
export function failureChain(f: FailureInfo): FailureInfo[] {
  const out: FailureInfo[] = [];
  let at: FailureInfo | undefined = f;
  while (at && out.length < 64) {
    out.push(at);
    at = at.cause;
  }
  return out;
}

/** The status shown for a run: PAUSED for an open run whose code no longer replays. */
export function shownStatus(run: Pick<RunSummary, 'status' | 'paused'>): string {
  return run.status === 'RUNNING' && run.paused ? 'PAUSED' : run.status;
}
