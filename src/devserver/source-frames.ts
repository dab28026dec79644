/**
 * The source lines around the call sites of a run (`GET /api/v1/workflows/:id/source`), for the
 * web UI's code frames: where each pending activity and timer is awaited, and both sides of a
 * paused run's divergence. Only the sites the run's description names are read, only inside the
 * project, and only source files, so the route cannot be used to read arbitrary files.
 */

import { readFile, realpath } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve } from 'node:path';
import type { RunDescription } from '../protocol/service.js';

export interface SourceFrame {
  /** As the call site names it (relative to the project). */
  file: string;
  line: number;
  column?: number;
  /** The site's line and `context` lines either side. */
  lines: { line: number; text: string }[];
}

const SOURCE_EXTENSIONS = new Set(['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs']);
/** `at src/workflows/order.ts:12` (or `:12:5`) in a pause reason. */
const SITE_IN_TEXT = / at ([^\s()]+?):(\d+)(?::(\d+))?(?=[\s),;]|$)/g;
const MAX_SITES = 50;
const MAX_LINE_LENGTH = 400;

type Site = { file: string; line: number; column?: number };

/** The call sites a description names: pending awaits, the pause's site and those in its reason. */
export function callSitesOf(description: RunDescription): Site[] {
  const sites: Site[] = [];
  for (const a of description.pendingActivities) if (a.callSite) sites.push(a.callSite);
  for (const t of description.pendingTimers) if (t.callSite) sites.push(t.callSite);
  if (description.paused) {
    if (description.paused.callSite) sites.push(description.paused.callSite);
    for (const m of description.paused.reason.matchAll(SITE_IN_TEXT)) {
      sites.push({ file: m[1]!, line: Number(m[2]), ...(m[3] ? { column: Number(m[3]) } : {}) });
    }
  }
  const seen = new Set<string>();
  return sites
    .filter((s) => {
      const key = `${s.file}:${s.line}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, MAX_SITES);
}

/** Code frames of `sites` read from the project at `root`; sites outside it or unreadable are left out. */
export async function sourceFrames(root: string, sites: Site[], context = 2): Promise<SourceFrame[]> {
  const realRoot = await realpath(root).catch(() => undefined);
  if (realRoot === undefined) return [];
  const outside = (path: string) => {
    const inside = relative(realRoot, path);
    return inside.startsWith('..') || isAbsolute(inside) || inside.split(/[\\/]/).includes('node_modules');
  };
  const files = new Map<string, Promise<string[] | undefined>>();
  const read = (path: string) => {
    let lines = files.get(path);
    if (!lines) {
      // A symbolic link inside the project may point elsewhere: the file's real place must be inside too.
      lines = realpath(path)
        .then((real) => (outside(real) ? undefined : readFile(real, 'utf8')))
        .then(
          (text) => text?.split(/\r?\n/),
          () => undefined,
        );
      files.set(path, lines);
    }
    return lines;
  };
  const frames: SourceFrame[] = [];
  for (const site of sites) {
    const path = resolve(realRoot, site.file);
    if (outside(path)) continue;
    if (!SOURCE_EXTENSIONS.has(extname(path))) continue;
    const lines = await read(path);
    if (!lines || site.line < 1 || site.line > lines.length) continue;
    const first = Math.max(1, site.line - context);
    const last = Math.min(lines.length, site.line + context);
    const out: SourceFrame['lines'] = [];
    for (let n = first; n <= last; n++) out.push({ line: n, text: lines[n - 1]!.slice(0, MAX_LINE_LENGTH) });
    frames.push({
      file: site.file,
      line: site.line,
      ...(site.column ? { column: site.column } : {}),
      lines: out,
    });
  }
  return frames;
}
