/**
 * A line safe to print on a terminal: workflow IDs, activity and signal names, failure and log
 * messages come from users (an order ID from a web form...), and their control characters (ESC
 * sequences, carriage returns, newlines that forge another event line) are shown escaped, as are
 * the characters that reorder or break text without being seen: bidirectional overrides, embeddings,
 * isolates and marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C: "Trojan Source"), and the
 * line and paragraph separators U+2028, U+2029.
 */
export function printable(line: string): string {
  return line.replace(UNPRINTABLE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Several lines safe to print on a terminal: each line as `printable` makes it, the line breaks kept. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}

const UNPRINTABLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

// The characters of UNPRINTABLE that JSON.stringify leaves raw (it escapes U+0000-U+001F itself).
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON text safe to print on a terminal: the C1 controls and invisible reordering characters that
 * `JSON.stringify` leaves raw are written as `\uXXXX` escapes. In JSON text they can only stand inside
 * strings, so the result is valid JSON that parses to the same value.
 */
export function terminalJson(json: string): string {
  return json.replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
