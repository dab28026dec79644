/**
 * How a duration is written: `units` for prose ("3d 4h 5m", "90s": the three largest units, whole
 * seconds), `clock` for columns and timelines ("1.2s", "2m03s", "1h02m03s": tenths under a minute,
 * then fixed-width minutes and seconds).
 */
export type DurationStyle = 'units' | 'clock';

const UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
] as const;

/** A duration for people: "3d 4h 5m", "90s", "250ms" (or "1h02m03s" in the `clock` style); "?" when negative or not finite. */
export function formatDuration(ms: number, style: DurationStyle = 'units'): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (style === 'clock' && ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  let rest = Math.floor(ms);
  const [days, hours, minutes, seconds] = UNITS.map(([, size]) => {
    const n = Math.floor(rest / size);
    rest -= n * size;
    return n;
  }) as [number, number, number, number];
  if (style === 'units') {
    const counts = [days, hours, minutes, seconds];
    const parts = UNITS.flatMap(([name], i) => (counts[i]! > 0 ? [`${counts[i]}${name}`] : []));
    return parts.slice(0, 3).join(' ');
  }
  const s = `${String(seconds).padStart(2, '0')}s`;
  const totalHours = days * 24 + hours;
  if (totalHours === 0) return `${minutes}m${s}`;
  return `${totalHours}h${String(minutes).padStart(2, '0')}m${s}`;
}
