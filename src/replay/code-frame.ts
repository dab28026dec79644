import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CallSite } from '../history/events.js';

/**
 * The source line at a call site with its neighbours and a caret under the column, as compilers
 * print them. Empty when the file cannot be read (it moved, or the history came from elsewhere).
 */
export function codeFrame(root: string, site: CallSite, context = 1): string {
  let lines: string[];
  try {
    lines = readFileSync(resolve(root, site.file), 'utf8').split('\n');
  } catch {
    return '';
  }
  if (site.line < 1 || site.line > lines.length) return '';
  const first = Math.max(1, site.line - context);
  const last = Math.min(lines.length, site.line + context);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const marker = n === site.line ? '>' : ' ';
    out.push(`${marker} ${String(n).padStart(width)} | ${lines[n - 1]}`);
    if (n === site.line) out.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, site.column - 1))}^`);
  }
  return out.join('\n');
}
