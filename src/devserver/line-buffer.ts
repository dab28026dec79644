/** How long a line may wait for others to be written with it: too short for a person to notice. */
const FLUSH_DELAY_MS = 20;

/**
 * Output lines gathered and written together at most FLUSH_DELAY_MS after the first: a server
 * printing every event makes one write for a burst of events, not one each (a write to a pipe or a
 * terminal blocks the event loop). Whatever is pending is written when the process exits.
 */
export function bufferedLines(write: (text: string) => void): (line: string) => void {
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = `${pending.join('\n')}\n`;
    pending = [];
    write(text);
  };
  process.once('exit', flush);
  return (line: string) => {
    pending.push(line);
    if (!scheduled) {
      scheduled = true;
      setTimeout(flush, FLUSH_DELAY_MS).unref();
    }
  };
}
