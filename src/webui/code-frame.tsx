/** The source lines around a call site, the site's line marked (from GET .../source). */
import type { CallSite } from '../protocol/service.js';
import type { SourceFrame } from './api.js';

export function siteKey(file: string, line: number): string {
  return `${file}:${line}`;
}

export function CodeFrame({ frame }: { frame: SourceFrame }) {
  return (
    <pre className="code-frame">
      {frame.lines.map((l) => (
        <div key={l.line} className={l.line === frame.line ? 'hit' : undefined}>
          <span className="ln">{l.line}</span> {l.text}
        </div>
      ))}
    </pre>
  );
}

/** `src/workflows/order.ts:12:5`, and its code frame when the server sent one. */
export function CallSiteView({
  site,
  frames,
}: {
  site: Pick<CallSite, 'file' | 'line'> & { column?: number };
  frames: Map<string, SourceFrame>;
}) {
  const frame = frames.get(siteKey(site.file, site.line));
  return (
    <div className="call-site">
      <code>
        {site.file}:{site.line}
        {site.column ? `:${site.column}` : ''}
      </code>
      {frame ? <CodeFrame frame={frame} /> : null}
    </div>
  );
}
