/**
 * Output lines gathered and written once per turn of the event loop: a server printing every
 * event makes one write for a burst of events, not one each. Whatever is pending is written when
 * the process exits.
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
      setImmediate(flush);
    }
  };
}
