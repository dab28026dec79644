/** A run's progress as the live view shows it. */
export interface Progress {
  /** 0..1 */
  fraction: number;
  /** "6/10" for `{ done, total }` answers. */
  label?: string;
}

/**
 * Reads an answer to the `progress` query, by the background-job template's convention: a number
 * from 0 to 1, or `{ done, total }`. Anything else is not progress (undefined).
 */
export function toProgress(answer: unknown): Progress | undefined {
  if (typeof answer === 'number') {
    return Number.isFinite(answer) ? { fraction: clamp(answer) } : undefined;
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return undefined;
  const { done, total } = answer as { done?: unknown; total?: unknown };
  if (
    typeof done !== 'number' ||
    typeof total !== 'number' ||
    !Number.isFinite(done) ||
    !Number.isFinite(total)
  ) {
    return undefined;
  }
  if (total <= 0) return { fraction: 0, label: `${done}/${total}` };
  return { fraction: clamp(done / total), label: `${done}/${total}` };
}

/** `[██████░░░░]  60% 6/10` in `width` cells for the bar. */
export function progressBar(progress: Progress, width = 12): string {
  const filled = Math.round(progress.fraction * width);
  const percent = `${Math.floor(progress.fraction * 100)}%`.padStart(4);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${percent}${progress.label ? ` ${progress.label}` : ''}`;
}

function clamp(n: number): number {
  return Math.min(1, Math.max(0, n));
}
