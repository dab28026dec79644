/** Why a run is paused: the divergence report, and the source line of each side as a code frame. */
import type { RunDescription } from '../protocol/service.js';
import type { SourceFrame } from './api.js';
import { CallSiteView, siteKey } from './code-frame.js';

/** `at src/workflows/order.ts:12` in a pause reason: the two sides of a divergence. */
const SITE_IN_TEXT = / at ([^\s()]+?):(\d+)(?::(\d+))?(?=[\s),;]|$)/g;

export function sitesInText(text: string): { file: string; line: number; column?: number }[] {
  const out: { file: string; line: number; column?: number }[] = [];
  for (const m of text.matchAll(SITE_IN_TEXT)) {
    out.push({ file: m[1]!, line: Number(m[2]), ...(m[3] ? { column: Number(m[3]) } : {}) });
  }
  return out;
}

export function PausedReport({
  paused,
  frames,
}: {
  paused: NonNullable<RunDescription['paused']>;
  frames: Map<string, SourceFrame>;
}) {
  const sites = [...sitesInText(paused.reason), ...(paused.callSite ? [paused.callSite] : [])].filter(
    (s, i, all) => all.findIndex((o) => o.file === s.file && o.line === s.line) === i,
  );
  return (
    <section className="card paused" data-testid="paused-report">
      <h2>Paused: its code no longer replays this history</h2>
      <pre className="reason">{paused.reason}</pre>
      {sites.map((site) => (
        <CallSiteView key={siteKey(site.file, site.line)} site={site} frames={frames} />
      ))}
      <p className="muted">
        Source lines are shown as the code reads now. Undo the change (or guard it with <code>patched()</code>
        ) and save: the reload resumes the run.
      </p>
    </section>
  );
}
