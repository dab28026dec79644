/** A JSON value: one line, expandable to the whole (indented), and copyable. Always text, never HTML. */
import { useState } from 'react';
import { pretty, summarize } from './format.js';

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain http off loopback has no clipboard API: copy through a selected textarea.
  const area = document.createElement('textarea');
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}

export function CopyButton({ text, label = 'Copy' }: { text: string | (() => string); label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="small"
      onClick={() => {
        copyText(typeof text === 'function' ? text() : text).then(
          () => {
            setCopied(true);
            setTimeout(() => setCopied(false), 1200);
          },
          () => setCopied(false),
        );
      }}
    >
      {copied ? 'Copied' : label}
    </button>
  );
}

/** Whether the value reads differently in full than on one line (an object, an array, a long text). */
function expandable(value: unknown, line: string): boolean {
  if (line.endsWith('…')) return true;
  if (Array.isArray(value)) return value.length > 0;
  return typeof value === 'object' && value !== null && Object.keys(value).length > 0;
}

export function Payload({ value, open: initiallyOpen = false }: { value: unknown; open?: boolean }) {
  const [open, setOpen] = useState(initiallyOpen);
  const line = summarize(value);
  const long = expandable(value, line);
  // The indented text is made only when shown or copied: a long history has many payloads.
  const full = open ? pretty(value) : '';
  return (
    <div className="payload">
      <div className="payload-head">
        {long ? (
          <button type="button" className="small" onClick={() => setOpen(!open)} aria-expanded={open}>
            {open ? '▾' : '▸'}
          </button>
        ) : null}
        {!open ? <code className="payload-line">{line}</code> : null}
        <CopyButton text={() => pretty(value)} />
      </div>
      {open ? <pre className="payload-full">{full}</pre> : null}
    </div>
  );
}
