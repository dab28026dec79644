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

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="small"
      onClick={() => {
        copyText(text).then(
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

export function Payload({ value, open: initiallyOpen = false }: { value: unknown; open?: boolean }) {
  const [open, setOpen] = useState(initiallyOpen);
  const full = pretty(value);
  const line = summarize(value);
  const long = full !== line;
  return (
    <div className="payload">
      <div className="payload-head">
        {long ? (
          <button type="button" className="small" onClick={() => setOpen(!open)} aria-expanded={open}>
            {open ? '▾' : '▸'}
          </button>
        ) : null}
        {!open ? <code className="payload-line">{line}</code> : null}
        <CopyButton text={full} />
      </div>
      {open ? <pre className="payload-full">{full}</pre> : null}
    </div>
  );
}
