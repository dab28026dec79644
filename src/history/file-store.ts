/**
 * The file store: one append-only JSON Lines file per run, every line checksummed, every append made
 * durable (fdatasync) before it is acknowledged, with fsyncs batched across runs (group commit).
 *
 * Layout of a store directory:
 *   LOCK                   the identity of the process that writes the store (see store-lock.ts)
 *   runs/<name>.jsonl      one run's history; <name> is derived from (workflowId, runId), never raw
 *   index.json             run summaries and file sizes, a cache for fast opening (never required)
 *   backups/               copies of files whose torn tail was truncated on open
 */

import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { type FileHandle, readFile } from 'node:fs/promises';
import path from 'node:path';
import secureJson from 'secure-json-parse';
import { type StoreLockInfo, WfError } from '../common/errors.js';
import type { StoredSchedule } from '../common/schedules.js';
import { prepareAppend, validateId } from './append-rules.js';
import { checkSequence, decodeEventLine, parseHistoryJsonl } from './codec.js';
import { environmentError } from './environment-errors.js';
import { CLOSING_EVENT_TYPES, type HistoryEvent, statusOfClosingEvent } from './events.js';
import { matches } from './memory-store.js';
import {
  applySearchAttributes,
  HistoryCorruptError,
  type HistoryCorruption,
  type HistoryStore,
  type ListRunsFilter,
  type RunKey,
  RunNotFoundError,
  type RunSummary,
} from './store.js';
import { nodeFileSystem, type StoreFileSystem } from './store-fs.js';
import { acquireStoreLock, releaseStoreLock } from './store-lock.js';

export { StoreLockedError, type StoreLockInfo } from '../common/errors.js';

export { MAX_ID_LENGTH, validateId } from './append-rules.js';

export interface FileHistoryStoreOptions {
  /**
   * Take the store's exclusive lock (default true). `false` opens the store read-only, for tools that
   * read a store another process may be writing (`wf replay`): nothing on disk is changed, and
   * `append` is refused.
   */
  lock?: boolean;
  /** Most run files kept open at once (default 256). */
  maxOpenFiles?: number;
  /** How long after a write the index is rewritten (default 2000 ms). */
  indexDelayMs?: number;
  /** The file system (default node:fs); tests inject faults through it. */
  fs?: StoreFileSystem;
}

/** What opening the store found and did. */
export interface FileStoreOpenReport {
  /** Torn final records cut off (`bytes` removed), each after copying the file to `backup`. */
  truncated: { file: string; bytes: number; backup: string }[];
  /** Runs whose history is corrupt before its end: listed as CORRUPT, left untouched. */
  corrupt: HistoryCorruption[];
  /** Set when the lock of a process that no longer runs was taken over. */
  lockTakenOver?: { previous?: StoreLockInfo; message: string };
  /** Read-only opening only: torn tails left in place and ignored. */
  ignoredTornTails: { file: string; bytes: number }[];
  /** Run files that held no complete record (a run whose first append never completed), removed. */
  removedEmpty: string[];
  /** `used`: index.json was read; `missing` / `unreadable`: every run file was scanned. */
  index: 'used' | 'missing' | 'unreadable';
  /** Run files read in full because the index had no up-to-date entry for them. */
  rescanned: number;
  readOnly: boolean;
}

/** Counters, for tests and benchmarks. */
export interface FileStoreStats {
  appends: number;
  events: number;
  /** Group commits: each writes and syncs every file with pending appends once. */
  batches: number;
  /** Syncs of run files: fdatasync calls, or O_DSYNC batch writes where the platform has O_DSYNC. */
  fsyncs: number;
  /** fsync calls on directories (after creating run files, after writing the index). */
  dirFsyncs: number;
  indexWrites: number;
  /** Run files open right now (at most `maxOpenFiles` between batches). */
  openFiles: number;
}

interface RunState {
  /** File name under runs/. */
  file: string;
  /** The run's IDs; for a run whose first line is unreadable, workflowId '' and runId = file name. */
  key: RunKey;
  /** Describes the durable history only. */
  summary: RunSummary;
  startMs: number;
  /** Tie-breaker for listing: higher started later. */
  seq: number;
  /** Next eventId an append must use; counts appends queued but not yet durable. */
  nextEventId: number;
  /** A closing event has been accepted (durable or queued). */
  closed: boolean;
  durableBytes: number;
  /** Size and mtime when the file was last stat'ed: the index records them to spot files changed behind its back. */
  statSize?: number;
  statMtimeMs?: number;
  /** The file exists on disk and its directory entry is durable. */
  exists: boolean;
  corruption?: HistoryCorruption;
  /** A write or sync failed: the file's tail is unknown until the store is reopened. */
  failure?: Error;
}

interface PendingWrite {
  text: string[];
  events: HistoryEvent[];
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

interface IndexEntry {
  file: string;
  size: number;
  /** The file's mtime when indexed; a file edited since (even to the same size) is read again. */
  mtimeMs?: number;
  seq: number;
  summary: RunSummary;
}

/**
 * Run files are opened with O_DSYNC where the platform has it (Linux, macOS): a write returns only
 * once its data (and the file size) is on stable storage, as write + fdatasync would, in one system
 * call. Elsewhere (Windows) each batch write is followed by an explicit datasync.
 */
const SYNC_ON_WRITE = typeof fsConstants.O_DSYNC === 'number' && fsConstants.O_DSYNC !== 0;
const APPEND_FLAGS =
  fsConstants.O_WRONLY |
  fsConstants.O_APPEND |
  fsConstants.O_CREAT |
  (SYNC_ON_WRITE ? fsConstants.O_DSYNC : 0);

const INDEX_VERSION = 1;
const WRITE_CHUNK = 64;

/**
 * The file name of a run: a readable prefix of the workflow ID (letters, digits, `-` and `_` only)
 * and a SHA-256 of the exact IDs (`order-1001_3f2a...e9.jsonl`). Never a path, never a reserved device
 * name (`con_...` is not one, even on Windows), at most 71 characters.
 */
export function runFileName(key: RunKey): string {
  validateId('workflowId', key.workflowId);
  validateId('runId', key.runId);
  const prefix = key.workflowId
    .slice(0, 32)
    .replace(/[^A-Za-z0-9_-]/g, '_')
    .toLowerCase();
  const hash = createHash('sha256')
    .update(JSON.stringify([key.workflowId, key.runId]))
    .digest('hex')
    .slice(0, 32);
  return `${prefix}_${hash}.jsonl`;
}

/** Reads one history file (an export, a test fixture): every problem is reported with file and line. */
export async function readHistoryFile(file: string): Promise<HistoryEvent[]> {
  const text = await readFile(file, 'utf8');
  return parseHistoryJsonl(text, file);
}

// ---------------------------------------------------------------------------------------------------

interface ScanResult {
  events: HistoryEvent[];
  /** Bytes up to the end of the last good record. */
  goodBytes: number;
  problem?: { line: number; message: string; torn: boolean };
}

/** Reads a run file's bytes: every record up to the first problem, and whether it looks torn. */
function scanRunBuffer(buf: Buffer): ScanResult {
  const events: HistoryEvent[] = [];
  let previous: HistoryEvent | undefined;
  let pos = 0;
  let line = 0;
  while (pos < buf.length) {
    line++;
    const nl = buf.indexOf(10, pos);
    if (nl === -1) {
      return {
        events,
        goodBytes: pos,
        problem: { line, message: 'the last record has no newline: a write was interrupted', torn: true },
      };
    }
    const decoded = decodeEventLine(buf.toString('utf8', pos, nl));
    if (!decoded.ok) {
      // A complete last line is torn only if the disk left zero-filled sectors in it (a write cut
      // short, never acknowledged). Anything else is damage to an acknowledged record: reported,
      // never cut, so no recorded outcome is silently lost.
      const zeroFilled = nl + 1 === buf.length && buf.subarray(pos, nl).includes(0);
      return {
        events,
        goodBytes: pos,
        problem: { line, message: decoded.message, torn: zeroFilled },
      };
    }
    const sequenceProblem = checkSequence(previous, decoded.event);
    if (sequenceProblem)
      return { events, goodBytes: pos, problem: { line, message: sequenceProblem, torn: false } };
    events.push(decoded.event);
    previous = decoded.event;
    pos = nl + 1;
  }
  return { events, goodBytes: pos };
}

function summaryOf(key: RunKey, events: HistoryEvent[]): RunSummary {
  const first = events[0]!;
  const summary: RunSummary = {
    ...key,
    workflowType: first.type === 'WorkflowExecutionStarted' ? first.workflowType : '',
    status: 'RUNNING',
    startTime: first.eventTime,
    historyLength: 0,
  };
  applyToSummary(summary, events);
  return summary;
}

function applyToSummary(summary: RunSummary, events: HistoryEvent[]): void {
  applySearchAttributes(summary, events);
  for (const event of events) {
    const status = statusOfClosingEvent(event.type);
    if (status) {
      summary.status = status;
      summary.closeTime = event.eventTime;
    }
  }
  const last = events[events.length - 1];
  if (last) summary.historyLength = last.eventId;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

async function fsyncDir(fs: StoreFileSystem, dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

// ---------------------------------------------------------------------------------------------------

/** A crash-safe history store in a directory of JSON Lines files. See the module comment. */
export class FileHistoryStore implements HistoryStore {
  private readonly runsDir: string;
  private readonly runs = new Map<string, RunState>();
  private readonly byWorkflowId = new Map<string, Set<RunState>>();
  private nextSeq = 0;
  private pending = new Map<RunState, PendingWrite>();
  private flushing: Promise<void> | undefined;
  private readonly handles = new Map<string, FileHandle>();
  private indexTimer: NodeJS.Timeout | undefined;
  private indexDirty = false;
  private indexWriting: Promise<void> | undefined;
  private closed = false;
  private lockRaw: string | undefined;
  private report!: FileStoreOpenReport;
  private bytes = 0;
  private readonly counters: Omit<FileStoreStats, 'openFiles'> = {
    appends: 0,
    events: 0,
    batches: 0,
    fsyncs: 0,
    dirFsyncs: 0,
    indexWrites: 0,
  };

  private constructor(
    readonly dir: string,
    private readonly readOnly: boolean,
    private readonly maxOpenFiles: number,
    private readonly indexDelayMs: number,
    private readonly fs: StoreFileSystem,
  ) {
    this.runsDir = path.join(dir, 'runs');
  }

  /** Opens (creating if needed) the store in `dir`, takes its lock, and recovers from a crash. */
  static async open(dir: string, options: FileHistoryStoreOptions = {}): Promise<FileHistoryStore> {
    const root = path.resolve(dir);
    const readOnly = options.lock === false;
    const store = new FileHistoryStore(
      root,
      readOnly,
      Math.max(WRITE_CHUNK, options.maxOpenFiles ?? 256),
      options.indexDelayMs ?? 2000,
      options.fs ?? nodeFileSystem,
    );
    try {
      if (!readOnly) {
        await store.fs.mkdir(store.runsDir, { recursive: true });
      }
      const lock = readOnly ? undefined : await acquireStoreLock(root, store.fs);
      store.lockRaw = lock?.raw;
      try {
        await store.load(lock?.takenOver);
      } catch (error) {
        await store.releaseLock().catch(() => {});
        throw error;
      }
    } catch (error) {
      // A full disk or a refused permission is the machine's doing: say so, and what to do.
      throw environmentError(error, `cannot open the store ${root}`) ?? error;
    }
    return store;
  }

  /** What opening found: truncated torn tails, corrupt runs, a taken-over lock, index use. */
  openReport(): FileStoreOpenReport {
    return structuredClone(this.report);
  }

  /** Bytes of event lines (newlines included) written and synced. */
  get appendedBytes(): number {
    return this.bytes;
  }

  stats(): FileStoreStats {
    return { ...this.counters, openFiles: this.handles.size };
  }

  /** The path of a run's history file (whether or not it exists yet). */
  runFilePath(key: RunKey): string {
    return path.join(this.runsDir, runFileName(key));
  }

  // ------------------------------------------------------------------------------------------------
  // Opening

  private async load(takenOver: FileStoreOpenReport['lockTakenOver']): Promise<void> {
    const report: FileStoreOpenReport = {
      truncated: [],
      corrupt: [],
      ignoredTornTails: [],
      removedEmpty: [],
      index: 'missing',
      rescanned: 0,
      readOnly: this.readOnly,
      ...(takenOver ? { lockTakenOver: takenOver } : {}),
    };
    this.report = report;
    const index = await this.readIndex(report);
    let names: string[];
    try {
      names = (await this.fs.readdir(this.runsDir)).filter((n) => n.endsWith('.jsonl'));
    } catch (error) {
      if (errorCode(error) === 'ENOENT' && this.readOnly) names = [];
      else throw error;
    }
    names.sort();
    const loaded: RunState[] = [];
    const rescanned: RunState[] = [];
    await mapLimit(names, 8, async (name) => {
      const file = path.join(this.runsDir, name);
      const stat = await this.fs.stat(file);
      if (!stat.isFile()) return;
      const entry = index?.get(name);
      if (
        entry &&
        entry.size === stat.size &&
        entry.mtimeMs === stat.mtimeMs &&
        entry.summary.status !== 'CORRUPT'
      ) {
        loaded.push(this.stateFromIndex(name, entry));
        return;
      }
      report.rescanned++;
      const state = await this.scanFile(name, report);
      if (state) rescanned.push(state);
    });
    for (const state of loaded) this.nextSeq = Math.max(this.nextSeq, state.seq + 1);
    rescanned.sort((a, b) => a.startMs - b.startMs || (a.file < b.file ? -1 : 1));
    for (const state of rescanned) state.seq = this.nextSeq++;
    for (const state of [...loaded, ...rescanned]) this.addRun(state);
    report.corrupt.sort((a, b) => (a.file < b.file ? -1 : 1));
    if (report.rescanned > 0 || report.index !== 'used' || (index && index.size !== loaded.length)) {
      this.markIndexDirty();
    }
  }

  private stateFromIndex(file: string, entry: IndexEntry): RunState {
    const summary = entry.summary;
    return {
      file,
      key: { workflowId: summary.workflowId, runId: summary.runId },
      summary,
      startMs: Date.parse(summary.startTime),
      seq: entry.seq,
      nextEventId: summary.historyLength + 1,
      closed: summary.status !== 'RUNNING',
      durableBytes: entry.size,
      statSize: entry.size,
      ...(entry.mtimeMs === undefined ? {} : { statMtimeMs: entry.mtimeMs }),
      exists: true,
    };
  }

  private async readIndex(report: FileStoreOpenReport): Promise<Map<string, IndexEntry> | undefined> {
    const raw = await this.readText(path.join(this.dir, 'index.json'));
    if (raw === undefined) return undefined;
    try {
      const value = secureJson.parse(raw);
      if (value?.version !== INDEX_VERSION || !Array.isArray(value.runs)) throw new Error('unknown index');
      const entries = new Map<string, IndexEntry>();
      for (const e of value.runs as IndexEntry[]) {
        const s = e?.summary;
        if (
          typeof e.file !== 'string' ||
          !Number.isSafeInteger(e.size) ||
          !Number.isSafeInteger(e.seq) ||
          typeof s !== 'object' ||
          s === null ||
          typeof s.workflowId !== 'string' ||
          typeof s.runId !== 'string' ||
          typeof s.workflowType !== 'string' ||
          typeof s.status !== 'string' ||
          typeof s.startTime !== 'string' ||
          !Number.isSafeInteger(s.historyLength) ||
          s.historyLength < 1 ||
          runFileName(s) !== e.file
        ) {
          throw new Error('bad index entry');
        }
        entries.set(e.file, e);
      }
      report.index = 'used';
      return entries;
    } catch {
      report.index = 'unreadable';
      return undefined;
    }
  }

  /** Reads a run file in full, repairing a torn tail; returns undefined when nothing is left. */
  private async scanFile(name: string, report: FileStoreOpenReport): Promise<RunState | undefined> {
    const file = path.join(this.runsDir, name);
    const buf = await this.fs.readFile(file);
    const scan = scanRunBuffer(buf);
    const problem = scan.problem;
    let size = buf.length;
    if (problem?.torn) {
      const bytes = buf.length - scan.goodBytes;
      if (this.readOnly) {
        report.ignoredTornTails.push({ file, bytes });
      } else {
        const backup = await this.backupAndTruncate(name, scan.goodBytes);
        report.truncated.push({ file, bytes, backup });
      }
      size = scan.goodBytes;
    }
    if (scan.events.length === 0 && (!problem || problem.torn)) {
      if (!this.readOnly) {
        await this.fs.rm(file, { force: true });
        report.removedEmpty.push(file);
      }
      return undefined;
    }
    const first = scan.events[0];
    let key: RunKey = { workflowId: '', runId: name.replace(/\.jsonl$/, '') };
    let corruption: HistoryCorruption | undefined;
    if (problem && !problem.torn) corruption = { file, line: problem.line, message: problem.message };
    if (first?.type === 'WorkflowExecutionStarted') {
      const ownKey = { workflowId: first.workflowId, runId: first.runId };
      let expected: string | undefined;
      try {
        expected = runFileName(ownKey);
      } catch {}
      if (expected === name) key = ownKey;
      else {
        corruption = {
          file,
          line: 1,
          message: `the file name does not belong to the run it holds (workflow ${JSON.stringify(first.workflowId)}, run ${JSON.stringify(first.runId)}), so it was renamed or copied in: move it to runs/${expected ?? '(invalid IDs)'} or delete it`,
        };
      }
    }
    const summary: RunSummary = first
      ? summaryOf(key, scan.events)
      : {
          ...key,
          workflowType: '',
          status: 'CORRUPT',
          startTime: new Date(0).toISOString(),
          historyLength: 0,
        };
    if (corruption) {
      summary.status = 'CORRUPT';
      summary.corruption = corruption;
      report.corrupt.push(corruption);
    }
    const last = scan.events[scan.events.length - 1];
    const stat = await this.fs.stat(file);
    return {
      file: name,
      statSize: stat.size,
      statMtimeMs: stat.mtimeMs,
      key,
      summary,
      startMs: Date.parse(summary.startTime),
      seq: 0,
      nextEventId: (last?.eventId ?? 0) + 1,
      closed: last ? CLOSING_EVENT_TYPES.has(last.type) : false,
      durableBytes: size,
      exists: true,
      ...(corruption ? { corruption } : {}),
    };
  }

  private async backupAndTruncate(name: string, goodBytes: number): Promise<string> {
    const backups = path.join(this.dir, 'backups');
    await this.fs.mkdir(backups, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const backup = path.join(backups, `${name}.${stamp}.torn`);
    try {
      await this.fs.copyFile(path.join(this.runsDir, name), backup);
      const copy = await this.fs.open(backup, 'r+');
      try {
        await copy.sync();
      } finally {
        await copy.close();
      }
      await fsyncDir(this.fs, backups);
    } catch (error) {
      // A partial copy (a full disk) is no backup: the file itself is left as it was.
      await this.fs.rm(backup, { force: true }).catch(() => {});
      throw error;
    }
    const handle = await this.fs.open(path.join(this.runsDir, name), 'r+');
    try {
      await handle.truncate(goodBytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return backup;
  }

  private addRun(state: RunState): void {
    this.runs.set(state.file, state);
    if (state.key.workflowId === '') return;
    let set = this.byWorkflowId.get(state.key.workflowId);
    if (!set) {
      set = new Set();
      this.byWorkflowId.set(state.key.workflowId, set);
    }
    set.add(state);
  }

  // ------------------------------------------------------------------------------------------------
  // Appending

  append(key: RunKey, events: HistoryEvent[]): Promise<void> {
    try {
      return this.enqueue(key, events);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Checks and queues an append synchronously, so a burst of appends joins one group commit. */
  private enqueue(key: RunKey, events: HistoryEvent[]): Promise<void> {
    if (this.closed) throw new WfError('UNAVAILABLE', `the store ${this.dir} is closed`);
    if (this.readOnly) {
      throw new WfError('UNAVAILABLE', `the store ${this.dir} was opened read-only (without its lock)`);
    }
    const file = runFileName(key);
    if (events.length === 0) return Promise.resolve();
    let run = this.runs.get(file);
    if (run?.corruption) throw new HistoryCorruptError(run.corruption);
    if (run?.failure) throw this.failureError(run);
    const prepared = prepareAppend(key, run, events);
    const lines = prepared.lines.map((line) => `${line}\n`);
    if (!run) {
      const first = events[0] as Extract<HistoryEvent, { type: 'WorkflowExecutionStarted' }>;
      run = {
        file,
        key: { workflowId: key.workflowId, runId: key.runId },
        summary: {
          workflowId: key.workflowId,
          runId: key.runId,
          workflowType: first.workflowType,
          status: 'RUNNING',
          startTime: first.eventTime,
          historyLength: 0,
        },
        startMs: Date.parse(first.eventTime),
        seq: this.nextSeq++,
        nextEventId: 1,
        closed: false,
        durableBytes: 0,
        exists: false,
      };
      this.addRun(run);
    }
    run.nextEventId = prepared.position.nextEventId;
    run.closed = prepared.position.closed;
    let pending = this.pending.get(run);
    if (!pending) {
      pending = { text: [], events: [], waiters: [] };
      this.pending.set(run, pending);
    }
    pending.text.push(...lines);
    pending.events.push(...events);
    this.counters.appends++;
    this.counters.events += events.length;
    const done = new Promise<void>((resolve, reject) => pending.waiters.push({ resolve, reject }));
    if (!this.flushing) this.flushing = this.flushLoop();
    return done;
  }

  private async flushLoop(): Promise<void> {
    await null; // appends issued in the same tick join the first batch
    try {
      while (this.pending.size > 0) {
        const batch = this.pending;
        this.pending = new Map();
        try {
          await this.writeBatch(batch);
        } catch (error) {
          for (const [run, p] of batch) this.fail(run, p, error);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** One group commit: each file with pending appends is written once and synced once. */
  private async writeBatch(batch: Map<RunState, PendingWrite>): Promise<void> {
    this.counters.batches++;
    const entries = [...batch];
    for (let start = 0; start < entries.length; start += WRITE_CHUNK) {
      const chunk = entries.slice(start, start + WRITE_CHUNK);
      const written: [RunState, PendingWrite, number][] = [];
      let created = false;
      await Promise.all(
        chunk.map(async ([run, p]) => {
          if (run.corruption || run.failure) {
            this.fail(
              run,
              p,
              run.corruption ? new HistoryCorruptError(run.corruption) : this.failureError(run),
            );
            return;
          }
          try {
            const isNew = !run.exists;
            const handle = await this.handleFor(run);
            const data = Buffer.from(p.text.join(''), 'utf8');
            let offset = 0;
            while (offset < data.length) {
              const { bytesWritten } = await handle.write(data, offset, data.length - offset);
              offset += bytesWritten;
            }
            // With O_DSYNC each write returned once durable (one thread-pool round trip, not two).
            if (!SYNC_ON_WRITE) await handle.datasync();
            this.counters.fsyncs++;
            if (isNew) created = true;
            written.push([run, p, data.length]);
          } catch (error) {
            run.failure = error instanceof Error ? error : new Error(String(error));
            await this.closeHandle(run.file);
            this.fail(run, p, this.failureError(run));
          }
        }),
      );
      if (created) {
        try {
          await fsyncDir(this.fs, this.runsDir);
          this.counters.dirFsyncs++;
        } catch (error) {
          for (const [run, p] of written) {
            if (!run.exists) {
              run.failure = error instanceof Error ? error : new Error(String(error));
              this.fail(run, p, this.failureError(run));
            }
          }
          written.splice(0, written.length, ...written.filter(([run]) => run.exists));
        }
      }
      await this.trimHandles();
      for (const [run, p, bytes] of written) {
        run.exists = true;
        run.durableBytes += bytes;
        this.bytes += bytes;
        applyToSummary(run.summary, p.events);
        for (const w of p.waiters) w.resolve();
      }
    }
    this.markIndexDirty();
  }

  private fail(run: RunState, p: PendingWrite, error: unknown): void {
    for (const w of p.waiters) w.reject(error);
    // Later appends were numbered after these; they cannot succeed.
    const later = this.pending.get(run);
    if (later && later !== p) {
      this.pending.delete(run);
      for (const w of later.waiters) w.reject(error);
    }
    if (!run.failure && !run.corruption)
      run.failure = error instanceof Error ? error : new Error(String(error));
  }

  private failureError(run: RunState): WfError {
    const doing = `writing the history of run ${run.key.runId} (${path.join(this.runsDir, run.file)})`;
    const after =
      'Nothing acknowledged before is lost; no more appends to this run are accepted until the store is reopened (restart wf dev), which cuts off a torn last write.';
    const environment = environmentError(run.failure, doing);
    if (environment) {
      return new WfError('UNAVAILABLE', `${environment.message} ${after}`, { cause: run.failure });
    }
    return new WfError('UNAVAILABLE', `${doing} failed: ${run.failure?.message}. ${after}`, {
      cause: run.failure,
    });
  }

  private async handleFor(run: RunState): Promise<FileHandle> {
    const cached = this.handles.get(run.file);
    if (cached) {
      this.handles.delete(run.file);
      this.handles.set(run.file, cached);
      return cached;
    }
    // A new run's file must not exist yet: O_EXCL ('ax') refuses to adopt a stray file.
    const handle = await this.fs.open(
      path.join(this.runsDir, run.file),
      run.exists ? APPEND_FLAGS : APPEND_FLAGS | fsConstants.O_EXCL,
    );
    this.handles.set(run.file, handle);
    return handle;
  }

  private async closeHandle(file: string): Promise<void> {
    const handle = this.handles.get(file);
    if (!handle) return;
    this.handles.delete(file);
    await handle.close().catch(() => {});
  }

  private async trimHandles(): Promise<void> {
    while (this.handles.size > this.maxOpenFiles) {
      const oldest = this.handles.keys().next().value as string;
      await this.closeHandle(oldest);
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Reading

  async readHistory(key: RunKey): Promise<HistoryEvent[]> {
    const run = this.runs.get(runFileName(key));
    if (!run || (run.summary.historyLength === 0 && !run.corruption)) throw new RunNotFoundError(key);
    if (run.corruption) throw new HistoryCorruptError(run.corruption);
    const file = path.join(this.runsDir, run.file);
    const durable = run.durableBytes;
    const buf = (await this.fs.readFile(file)).subarray(0, durable);
    const scan = scanRunBuffer(buf);
    let problem = scan.problem;
    if (!problem && buf.length < durable) {
      problem = {
        line: scan.events.length + 1,
        message: 'the file is shorter than what was written',
        torn: false,
      };
    }
    const first = scan.events[0];
    if (
      !problem &&
      (first?.type !== 'WorkflowExecutionStarted' ||
        first.workflowId !== key.workflowId ||
        first.runId !== key.runId)
    ) {
      problem = { line: 1, message: 'the file holds a different run', torn: false };
    }
    if (problem) {
      run.corruption = { file, line: problem.line, message: problem.message };
      run.summary.status = 'CORRUPT';
      run.summary.corruption = run.corruption;
      this.markIndexDirty(); // drop its entry, so the next open scans the file and reports it
      throw new HistoryCorruptError(run.corruption);
    }
    return scan.events;
  }

  async listRuns(filter: ListRunsFilter = {}): Promise<RunSummary[]> {
    const result: RunState[] = [];
    for (const run of this.runs.values()) {
      if (run.summary.historyLength === 0 && !run.corruption) continue;
      if (matches(run.summary, filter)) result.push(run);
    }
    result.sort((a, b) => b.startMs - a.startMs || b.seq - a.seq);
    return result.map((r) => structuredClone(r.summary));
  }

  async latestRun(workflowId: string): Promise<RunSummary | undefined> {
    let best: RunState | undefined;
    for (const run of this.byWorkflowId.get(workflowId) ?? []) {
      if (run.summary.historyLength === 0 && !run.corruption) continue;
      if (!best || run.startMs > best.startMs || (run.startMs === best.startMs && run.seq > best.seq))
        best = run;
    }
    return best ? structuredClone(best.summary) : undefined;
  }

  // ------------------------------------------------------------------------------------------------
  // Index

  private markIndexDirty(): void {
    if (this.readOnly) return;
    this.indexDirty = true;
    if (this.indexTimer || this.closed) return;
    this.indexTimer = setTimeout(() => {
      this.indexTimer = undefined;
      this.writeIndex().catch(() => {
        // The index is a cache: the next write (or the next open's scan) makes up for it.
      });
    }, this.indexDelayMs);
    this.indexTimer.unref();
  }

  /** Writes index.json atomically (tmp, fsync, rename, fsync dir). Never needed for correctness. */
  async writeIndex(): Promise<void> {
    if (this.readOnly) return;
    while (this.indexWriting) await this.indexWriting;
    if (!this.indexDirty) return;
    this.indexDirty = false;
    const runs: IndexEntry[] = [];
    for (const run of this.runs.values()) {
      if (run.corruption || run.failure || run.summary.historyLength === 0) continue;
      if (run.statSize !== run.durableBytes) {
        // Grown since it was last stat'ed: read its mtime (only files that changed pay for this).
        try {
          const stat = await this.fs.stat(path.join(this.runsDir, run.file));
          run.statSize = stat.size;
          run.statMtimeMs = stat.mtimeMs;
        } catch {
          continue;
        }
      }
      runs.push({
        file: run.file,
        size: run.durableBytes,
        ...(run.statSize === run.durableBytes && run.statMtimeMs !== undefined
          ? { mtimeMs: run.statMtimeMs }
          : {}),
        seq: run.seq,
        summary: structuredClone(run.summary),
      });
    }
    const text = JSON.stringify({ version: INDEX_VERSION, runs });
    this.indexWriting = (async () => {
      const target = path.join(this.dir, 'index.json');
      const tmp = `${target}.${process.pid}.tmp`;
      try {
        const handle = await this.fs.open(tmp, 'w');
        try {
          await handle.writeFile(text);
          await handle.datasync();
        } finally {
          await handle.close();
        }
        await this.fs.rename(tmp, target);
        await fsyncDir(this.fs, this.dir);
        this.counters.dirFsyncs++;
        this.counters.indexWrites++;
      } catch (error) {
        this.indexDirty = true;
        await this.fs.rm(tmp, { force: true }).catch(() => {});
        throw error;
      }
    })();
    try {
      await this.indexWriting;
    } finally {
      this.indexWriting = undefined;
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Schedules: one JSON file each in schedules/, written aside, synced and renamed into place.

  async saveSchedule(schedule: StoredSchedule): Promise<void> {
    const dir = path.join(this.dir, 'schedules');
    await this.fs.mkdir(dir, { recursive: true });
    const target = path.join(dir, `${schedule.scheduleId}.json`);
    const tmp = `${target}.${process.pid}.tmp`;
    const handle = await this.fs.open(tmp, 'w');
    try {
      await handle.writeFile(`${JSON.stringify(schedule, null, 2)}\n`);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await this.fs.rename(tmp, target);
    await fsyncDir(this.fs, dir);
  }

  async deleteSchedule(scheduleId: string): Promise<boolean> {
    const dir = path.join(this.dir, 'schedules');
    const target = path.join(dir, `${scheduleId}.json`);
    try {
      await this.fs.stat(target);
    } catch {
      return false;
    }
    await this.fs.rm(target, { force: true });
    await fsyncDir(this.fs, dir);
    return true;
  }

  async listSchedules(): Promise<StoredSchedule[]> {
    const dir = path.join(this.dir, 'schedules');
    let names: string[];
    try {
      names = (await this.fs.readdir(dir)).map(String);
    } catch {
      return [];
    }
    const schedules: StoredSchedule[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      const text = await this.fs.readFile(path.join(dir, name));
      try {
        schedules.push(JSON.parse(text.toString('utf8')) as StoredSchedule);
      } catch (error) {
        throw new WfError(
          'CORRUPT',
          `schedule file ${path.join(dir, name)} is not valid JSON (${(error as Error).message}): fix it from a backup or delete it to drop the schedule`,
        );
      }
    }
    return schedules;
  }

  // ------------------------------------------------------------------------------------------------
  // Closing

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      while (this.flushing) await this.flushing;
      if (this.indexTimer) clearTimeout(this.indexTimer);
      this.indexTimer = undefined;
      await this.writeIndex().catch(() => {});
    } finally {
      for (const file of [...this.handles.keys()]) await this.closeHandle(file);
      await this.releaseLock();
    }
  }

  private async releaseLock(): Promise<void> {
    if (!this.lockRaw) return;
    await releaseStoreLock(this.dir, this.lockRaw, this.fs);
    this.lockRaw = undefined;
  }

  private async readText(file: string): Promise<string | undefined> {
    try {
      return await this.fs.readFile(file, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  }
}
