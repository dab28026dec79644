import { constants as fsConstants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { StoreFileSystem } from './store-fs.js';

/** Bytes appended to a run file at `offset`, as the write-ahead log records them. */
export interface WalRecord {
  /** The run file's name in the runs directory. */
  file: string;
  offset: number;
  data: Buffer;
}

export const WAL_FILE = 'wal.log';

/**
 * The file store's write-ahead log: one file that every group commit appends its records to with a
 * single synchronous write, so a batch of appends to many runs costs one sync instead of one per
 * run file. The run files are written (not synced) before the log, and synced at a checkpoint,
 * after which the log is emptied. Opening a store re-applies the log's records to the run files, so
 * what a power loss took from a run file's cache comes back.
 *
 * A record is a header line `W <crc32 of data> <offset> <length> <file as JSON>` and then the data
 * (which ends with a newline). A record cut short or with a wrong checksum ends the log: it was
 * never acknowledged.
 */
export class WriteAheadLog {
  private constructor(
    private readonly fs: StoreFileSystem,
    private readonly handle: FileHandle,
    private bytes: number,
  ) {}

  /**
   * Opens (creating) the log of the store in `dir` and returns it with the records it holds. The
   * caller applies them to the run files, syncs those, and then empties the log with reset().
   */
  static async open(fs: StoreFileSystem, dir: string): Promise<{ log: WriteAheadLog; records: WalRecord[] }> {
    const file = path.join(dir, WAL_FILE);
    let records: WalRecord[] = [];
    let valid = 0;
    try {
      const raw = await fs.readFile(file);
      ({ records, valid } = parseWal(raw));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const handle = await fs.open(
      file,
      fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_APPEND | (fsConstants.O_DSYNC ?? 0),
    );
    const log = new WriteAheadLog(fs, handle, valid);
    return { log, records };
  }

  /** How many bytes the log holds since it was last emptied. */
  get size(): number {
    return this.bytes;
  }

  /**
   * Appends the records with one synchronous write: they are durable when it resolves. `blocking`
   * makes the write on the calling thread: quicker by a hop through libuv's thread pool when the
   * event loop has nothing else to do meanwhile (a batch of one run), but the loop waits for the disk.
   */
  async append(records: WalRecord[], blocking = false): Promise<void> {
    if (records.length === 0) return;
    const parts: Buffer[] = [];
    for (const record of records) {
      const header = `W ${crcOf(record.data)} ${record.offset} ${record.data.length} ${JSON.stringify(record.file)}\n`;
      parts.push(Buffer.from(header, 'utf8'), record.data);
    }
    const data = Buffer.concat(parts);
    if (this.broken) throw this.broken;
    try {
      let written = 0;
      while (written < data.length) {
        written += blocking
          ? this.fs.writeSync(this.handle, data, written, data.length - written)
          : (await this.handle.write(data, written, data.length - written)).bytesWritten;
      }
      if (!fsConstants.O_DSYNC) await this.handle.datasync();
    } catch (error) {
      // A record cut short would end the log for every record after it: cut the log back to its
      // last whole record, or take no more records until the store is reopened.
      await this.handle.truncate(this.bytes).catch(() => {
        this.broken = error instanceof Error ? error : new Error(String(error));
      });
      throw error;
    }
    this.bytes += data.length;
  }

  /** Set when a failed write could not be cut back: the log takes nothing more. */
  private broken: Error | undefined;

  /** Empties the log (everything it held is synced in the run files). */
  async reset(): Promise<void> {
    await this.handle.truncate(0);
    await this.handle.datasync();
    this.bytes = 0;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => {});
  }
}

/** The records of a log's bytes, up to the first one cut short or damaged. */
export function parseWal(raw: Buffer): { records: WalRecord[]; valid: number } {
  const records: WalRecord[] = [];
  let pos = 0;
  while (pos < raw.length) {
    const nl = raw.indexOf(10, pos);
    if (nl < 0) break;
    const match = /^W ([0-9a-f]{8}) (\d+) (\d+) (".*")$/.exec(raw.toString('utf8', pos, nl));
    if (!match) break;
    const offset = Number(match[2]);
    const length = Number(match[3]);
    const start = nl + 1;
    if (start + length > raw.length) break;
    const data = raw.subarray(start, start + length);
    if (crcOf(data) !== match[1]) break;
    let file: string;
    try {
      file = JSON.parse(match[4]!) as string;
    } catch {
      break;
    }
    if (typeof file !== 'string' || file.includes('/') || file.includes('\\') || file.startsWith('.')) break;
    records.push({ file, offset, data: Buffer.from(data) });
    pos = start + length;
  }
  return { records, valid: pos };
}

function crcOf(data: Buffer): string {
  return crc32(data).toString(16).padStart(8, '0');
}
