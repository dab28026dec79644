/**
 * A line safe to print on a terminal: workflow IDs, activity and signal names, failure and log
 * messages come from users (an order ID from a web form...), and their control characters (ESC
 * sequences, carriage returns, newlines that forge another event line) are shown escaped.
 */
export function printable(line: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return line.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    return `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
