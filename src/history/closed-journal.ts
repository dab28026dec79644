/**
 * The closed-run journal of the file store: the summaries of closed runs, kept on disk instead of in
 * memory. It is a cache of the run files (rebuilt from them whenever it is missing, stale or
 * damaged), split by workflow ID into segments so that a look-up by workflow ID reads one segment.
 *
 *   closed/<generation>-<bucket>.jsonl   one line per closed run: `<crc32 hex>\t<json>\n`
 *
 * The JSON is `{ file, size, mtimeMs?, seq, summary }`. Segments are only appended to; a rebuild
 * writes a new generation and index.json names the generation (and each segment's length) in use.
 */

import { crc32Hex } from './codec.js';
import type { RunSummary } from './store.js';

export const JOURNAL_DIR = 'closed';
export const JOURNAL_BUCKETS = 64;

/** What the store keeps about a run it does not hold in memory (also the shape of index.json entries). */
export interface RunEntry {
  file: string;
  size: number;
  /** The file's mtime when recorded; a file edited since (even to the same size) is read again. */
  mtimeMs?: number;
  seq: number;
  summary: RunSummary;
}

/** The segment a workflow ID's closed runs go to. */
export function bucketOf(workflowId: string): number {
  return Number.parseInt(crc32Hex(workflowId).slice(-2), 16) % JOURNAL_BUCKETS;
}

export function segmentName(generation: number, bucket: number): string {
  return `${generation}-${bucket.toString(16).padStart(2, '0')}.jsonl`;
}

/** The generation and bucket of a segment file name, or undefined for any other name. */
export function parseSegmentName(name: string): { generation: number; bucket: number } | undefined {
  const match = /^(\d+)-([0-9a-f]{2})\.jsonl$/.exec(name);
  if (!match) return undefined;
  return { generation: Number(match[1]), bucket: Number.parseInt(match[2]!, 16) };
}

export function encodeEntry(entry: RunEntry): string {
  const json = JSON.stringify(entry);
  return `${crc32Hex(json)}\t${json}\n`;
}

/** Checks the shape of an entry read from disk (a journal line or an index.json entry). */
export function isRunEntry(e: unknown, fileNameOf?: (key: RunSummary) => string): e is RunEntry {
  const entry = e as RunEntry | null;
  const s = entry?.summary;
  if (
    typeof entry !== 'object' ||
    entry === null ||
    typeof entry.file !== 'string' ||
    !Number.isSafeInteger(entry.size) ||
    !Number.isSafeInteger(entry.seq) ||
    (entry.mtimeMs !== undefined && typeof entry.mtimeMs !== 'number') ||
    typeof s !== 'object' ||
    s === null ||
    typeof s.workflowId !== 'string' ||
    typeof s.runId !== 'string' ||
    typeof s.workflowType !== 'string' ||
    typeof s.status !== 'string' ||
    typeof s.startTime !== 'string' ||
    !Number.isSafeInteger(s.historyLength) ||
    s.historyLength < 1
  ) {
    return false;
  }
  if (!fileNameOf) return true;
  try {
    return fileNameOf(s) === entry.file;
  } catch {
    return false;
  }
}

export interface SegmentRead {
  entries: RunEntry[];
  /** Lines that failed their checksum or shape, or a last line without its newline. */
  problems: { line: number; message: string }[];
}

/**
 * Decodes a segment. With `fileNameOf`, each entry's file name is checked against its IDs (opening
 * does; later reads trust lines whose checksum holds). With `needle`, only lines containing it are decoded (a fast prefilter: the
 * caller still checks each entry), and damage elsewhere goes unnoticed.
 */
export function readSegment(
  buf: Buffer,
  fileNameOf: ((key: RunSummary) => string) | undefined,
  needle?: string,
): SegmentRead {
  const entries: RunEntry[] = [];
  const problems: SegmentRead['problems'] = [];
  const decodeLine = (start: number, end: number) => {
    const text = buf.toString('utf8', start, end);
    const tab = text.indexOf('\t');
    const json = text.slice(tab + 1);
    if (tab !== 8 || crc32Hex(json) !== text.slice(0, 8)) {
      problems.push({ line: lineNumber(buf, start), message: 'checksum mismatch' });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      problems.push({ line: lineNumber(buf, start), message: 'not JSON' });
      return;
    }
    if (isRunEntry(value, fileNameOf)) entries.push(value);
    else problems.push({ line: lineNumber(buf, start), message: 'not a run entry' });
  };
  if (needle !== undefined) {
    const pattern = Buffer.from(needle, 'utf8');
    let from = 0;
    for (;;) {
      const hit = buf.indexOf(pattern, from);
      if (hit === -1) break;
      const start = buf.lastIndexOf(10, hit) + 1;
      const nl = buf.indexOf(10, hit);
      if (nl === -1) {
        problems.push({ line: lineNumber(buf, start), message: 'the last line has no newline' });
        break;
      }
      decodeLine(start, nl);
      from = nl + 1;
    }
    return { entries, problems };
  }
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos);
    if (nl === -1) {
      problems.push({ line: lineNumber(buf, pos), message: 'the last line has no newline' });
      break;
    }
    decodeLine(pos, nl);
    pos = nl + 1;
  }
  return { entries, problems };
}

function lineNumber(buf: Buffer, offset: number): number {
  let line = 1;
  for (let i = buf.indexOf(10); i !== -1 && i < offset; i = buf.indexOf(10, i + 1)) line++;
  return line;
}

/** The JSON text a line of `value` holds for a key, as a prefilter needle (`"file":"x.jsonl"`). */
export function needleFor(key: 'file' | 'workflowId' | 'status', value: string): string {
  return `"${key}":${JSON.stringify(value)}`;
}
