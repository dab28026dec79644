/** A JSON text area checked as it is typed: the value is sent only when it parses to what is asked. */
import { useId } from 'react';

export type JsonCheck = { ok: true; value: unknown } | { ok: false; error: string };

/** Parses `text` as JSON; `array` asks for an array (arguments). Empty text is `[]` for arguments. */
export function checkJson(text: string, want: 'array' | 'any'): JsonCheck {
  if (text.trim() === '') return want === 'array' ? { ok: true, value: [] } : { ok: false, error: 'empty' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  if (want === 'array' && !Array.isArray(value)) {
    return { ok: false, error: 'arguments are a JSON array, e.g. ["a", 1] (wrap a single value in [ ])' };
  }
  return { ok: true, value };
}

export function JsonEditor({
  label,
  value,
  onChange,
  check,
  rows = 3,
}: {
  label: string;
  value: string;
  onChange: (text: string) => void;
  check: JsonCheck;
  rows?: number;
}) {
  const id = useId();
  return (
    <div className="json-editor">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        className={check.ok ? undefined : 'invalid'}
        value={value}
        rows={rows}
        spellCheck={false}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={!check.ok}
      />
      {check.ok ? null : <span className="error">{check.error}</span>}
    </div>
  );
}
