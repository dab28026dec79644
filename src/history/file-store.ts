/**
 * The file store: one append-only JSON Lines file per run, every line checksummed, every append made
 * durable (fdatasync) before it is acknowledged, with fsyncs batched across runs (group commit).
 *
 * Layout of a store directory:
 *   LOCK                   the identity of the process that writes the store (see store-lock.ts)
 *   runs/<name>.jsonl      one run's history; <name> is derived from (workflowId, runId), never raw
 *   index.json             the open runs' summaries, the journal's generation and segment lengths,
 *                          and whether the store was closed cleanly (a cache: never required)
 *   closed/                the closed-run journal (closed-journal.ts): closed runs' summaries, on
 *                          disk only, appended to in bursts and read on demand (a cache as well)
 *   backups/               copies of files whose torn tail was truncated on open
 *
 * Only open runs (and corrupt ones) are held in memory. Opening a cleanly closed store reads
 * index.json and stats the open runs' files: its cost does not grow with closed runs. After a crash,
 * or whenever index.json or the journal does not match the run files, opening reads the runs
 * directory and rebuilds the journal from the run files.
 */

import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { type FileHandle, readFile } from 'node:fs/promises';
import path from 'node:path';
import secureJson from 'secure-json-parse';
import { StoreEnvironmentError, type StoreLockInfo, WfError } from '../common/errors.js';
import type { StoredSchedule } from '../common/schedules.js';
import { prepareAppend, validateId } from './append-rules.js';
import {
  bucketOf,
  encodeEntry,
  isRunEntry,
  JOURNAL_BUCKETS,
  JOURNAL_DIR,
  needleFor,
  parseSegmentName,
  type RunEntry,
  readSegment,
  segmentName,
} from './closed-journal.js';
import { checkSequence, crc32Hex, decodeEventLine, parseHistoryJsonl } from './codec.js';
import { environmentError } from './environment-errors.js';
import { CLOSING_EVENT_TYPES, type HistoryEvent, statusOfClosingEvent } from './events.js';
import { matches } from './memory-store.js';
import {
  applySearchAttributes,
  HistoryConflictError,
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
import { type WalRecord, WriteAheadLog } from './write-ahead-log.js';

export { StoreLockedError, type StoreLockInfo } from '../common/errors.js';

export { MAX_ID_LENGTH, validateId } from './append-rules.js';

export interface FileHistoryStoreOptions {
  /**
   * Take the store's exclusive lock (default true). `false` opens the store read-only, for tools that
   * read a store another process may be writing (`wf replay`): nothing on disk is changed, and
   * `append` is refused.
   */
  lock?: boolean;
  /** Most run files kept open at once (default 256); also the most runs one sync of the write-ahead log covers. */
  maxOpenFiles?: number;
  /**
   * How long after the last write the index is rewritten and a checkpoint taken (the run files
   * synced, the write-ahead log emptied). Default 2000 ms.
   */
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
  /**
   * `used`: a cleanly closed store opened from index.json and the closed-run journal, without
   * reading the runs directory; `rebuilt`: the runs directory was read (a crash, a store of an older
   * version, or files that did not match) and the journal written anew from the run files.
   */
  journal: 'used' | 'rebuilt' | 'none';
  /** Run files read in full because the index had no up-to-date entry for them. */
  rescanned: number;
  /** Run files whose tail the write-ahead log gave back (lost from the disk's cache, e.g. by a power cut). */
  restoredFromLog: string[];
  readOnly: boolean;
}

/** Counters, for tests and benchmarks. */
export interface FileStoreStats {
  appends: number;
  events: number;
  /** Group commits: each writes every file with pending appends once, and syncs the log once. */
  batches: number;
  /** Syncs that made appends durable: synchronous writes of the write-ahead log (one per 64 runs of a batch). */
  fsyncs: number;
  /** Checkpoints: run files synced and the write-ahead log emptied. */
  checkpoints: number;
  /** fsync calls on directories (after creating run files, after writing the index). */
  dirFsyncs: number;
  indexWrites: number;
  /** Run files open right now (at most `maxOpenFiles` between batches). */
  openFiles: number;
  /** Runs held in memory: the open ones, corrupt ones, and closed ones not yet in the journal. */
  heldRuns: number;
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

/** A journal entry as listing uses it. */
type ClosedRun = RunEntry & { startMs: number };

/** A copy of a summary that shares nothing with the store's. */
function copySummary(summary: RunSummary): RunSummary {
  const copy = { ...summary };
  if (summary.searchAttributes) copy.searchAttributes = structuredClone(summary.searchAttributes);
  if (summary.corruption) copy.corruption = { ...summary.corruption };
  if (summary.paused) copy.paused = { ...summary.paused };
  return copy;
}

interface PendingWrite {
  text: string[];
  events: HistoryEvent[];
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

type IndexEntry = RunEntry;

/** index.json (version 2). Version 1 held every run in `runs`; it is read once and migrated. */
interface IndexFile {
  version: number;
  /** Written by close(): no run file changed after it. Any other index sends opening to the runs directory. */
  clean: boolean;
  generation: number;
  /** Bytes of each journal segment (by bucket) that the index vouches for. */
  segments: Record<string, number>;
  closedCount: number;
  /** Journal lines by status: a listing by a status no closed run has skips the journal. */
  closedStatuses: Record<string, number>;
  nextSeq: number;
  /** Runs not in the journal: the open ones (and closed ones not yet journaled). */
  runs: IndexEntry[];
}

/**
 * Run files are written without a sync: a group commit makes its appends durable with one
 * synchronous write of the write-ahead log (write-ahead-log.ts), and the run files are synced at
 * checkpoints, when the log has grown past WAL_CHECKPOINT_BYTES and when the store closes.
 */
const APPEND_FLAGS = fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT;
const WAL_CHECKPOINT_BYTES = 8 * 1024 * 1024;

/** A run file up to this size is read on the host thread (a larger one through the thread pool). */
const SMALL_FILE_BYTES = 64 * 1024;
/** A run is taken to append alone when no other run has appended for this long (ms). */
const ALONE_MS = 5;
const INDEX_VERSION = 2;
/** A cleanly closed store with at most this many closed runs has each one's file checked at open. */
const VERIFY_CLOSED_AT_OPEN = 1000;
/** How long a listing of every closed run stays cached for the next page. */
const LIST_CACHE_MS = 10_000;
/** The bitmap of workflow IDs with closed runs: 2^20 bits (128 KB), about 1 % false "maybe" at 10,000 IDs. */
const ID_BITMAP_BITS_LOG2 = 20;

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

/** File names of the keys the engine passes again and again (its run entries' keys). */
const fileNames = new WeakMap<RunKey, { workflowId: string; runId: string; name: string }>();

/** runFileName() remembered per key object: a SHA-256 per append is a cost on every step. */
function fileNameOf(key: RunKey): string {
  const known = fileNames.get(key);
  if (known && known.workflowId === key.workflowId && known.runId === key.runId) return known.name;
  const name = runFileName(key);
  fileNames.set(key, { workflowId: key.workflowId, runId: key.runId, name });
  return name;
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

/**
 * `mkdir -p`, one level at a time. Node's recursive mkdir never returns for a path under a directory
 * that refuses new entries with ENOENT (`/proc/x/.wf`): here the refusal is reported.
 */
async function makeDirs(fs: StoreFileSystem, dir: string): Promise<void> {
  try {
    await fs.mkdir(dir);
    return;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return;
    const parent = path.dirname(dir);
    if (errorCode(error) !== 'ENOENT' || parent === dir) throw error;
    await makeDirs(fs, parent);
  }
  try {
    await fs.mkdir(dir);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return;
    if (errorCode(error) !== 'ENOENT') throw error;
    throw new StoreEnvironmentError(
      `cannot create the directory ${dir}: mkdir failed with ENOENT although ${path.dirname(dir)} exists (that file system takes no new directories there). This is a problem of the machine, not of wf: use --store to pick a directory on a regular disk.`,
      'ENOENT',
      dir,
      { cause: error },
    );
  }
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
  /** Closed runs live in the journal, not in memory (false only for a read-only store read in full). */
  private useJournal = false;
  private generation = 0;
  /** Bytes of each journal segment by bucket: what has been appended and synced. */
  private readonly segmentBytes = new Map<number, number>();
  private closedCount = 0;
  private readonly closedStatuses = new Map<string, number>();
  /** Closed runs (durably) waiting to go to the journal at the next index write. */
  private readonly toJournal = new Set<RunState>();
  /**
   * The journal no longer matches the run files (an append to it failed, a line of it is damaged,
   * a closed run's file was found changed or gone): the next open reads the runs directory.
   */
  private journalStale = false;
  /** Closed runs whose file was found missing: left out of listings. */
  private readonly gone = new Set<string>();
  /**
   * Workflow IDs that have closed runs in the journal, one bit each by hash (a false "maybe" costs a
   * segment read, a "no" is always right), for the segments in `idsSeen`: read once, or written here.
   */
  private readonly idBitmap = new Uint32Array(2 ** ID_BITMAP_BITS_LOG2 / 32);
  private readonly idsSeen = new Set<number>();
  /** Bumped on every journal change: the listing cache below is for one version. */
  private journalVersion = 0;
  private listCache: { version: number; entries: ClosedRun[]; timer: NodeJS.Timeout } | undefined;
  private nextSeq = 0;
  private pending = new Map<RunState, PendingWrite>();
  private flushing: Promise<void> | undefined;
  private readonly handles = new Map<string, FileHandle>();
  private indexTimer: NodeJS.Timeout | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private indexDirty = false;
  /** The index.json on disk says the store was closed cleanly. */
  private indexClean = false;
  private indexWriting: Promise<void> | undefined;
  private closed = false;
  private lockRaw: string | undefined;
  private report!: FileStoreOpenReport;
  private bytes = 0;
  private readonly counters: Omit<FileStoreStats, 'openFiles' | 'heldRuns'> = {
    appends: 0,
    events: 0,
    batches: 0,
    fsyncs: 0,
    dirFsyncs: 0,
    indexWrites: 0,
    checkpoints: 0,
  };
  private wal: WriteAheadLog | undefined;
  /** Run files written since the last checkpoint (their bytes are durable in the log only). */
  private readonly unsynced = new Set<string>();
  private createdSinceCheckpoint = false;

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
      Math.max(1, options.maxOpenFiles ?? 256),
      options.indexDelayMs ?? 2000,
      options.fs ?? nodeFileSystem,
    );
    try {
      if (!readOnly) {
        await makeDirs(store.fs, store.runsDir);
      }
      const lock = readOnly ? undefined : await acquireStoreLock(root, store.fs);
      store.lockRaw = lock?.raw;
      try {
        await store.load(lock?.takenOver);
        store.resetCounters(); // what opening wrote is not traffic
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

  private resetCounters(): void {
    for (const key of Object.keys(this.counters) as (keyof typeof this.counters)[]) this.counters[key] = 0;
  }

  /** Bytes of event lines (newlines included) written and synced. */
  get appendedBytes(): number {
    return this.bytes;
  }

  stats(): FileStoreStats {
    return { ...this.counters, openFiles: this.handles.size, heldRuns: this.runs.size };
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
      journal: 'none',
      rescanned: 0,
      restoredFromLog: [],
      readOnly: this.readOnly,
      ...(takenOver ? { lockTakenOver: takenOver } : {}),
    };
    this.report = report;
    if (!this.readOnly) {
      // What the log holds goes back into the run files before anything reads them.
      const { log, records } = await WriteAheadLog.open(this.fs, this.dir);
      this.wal = log;
      report.restoredFromLog = await this.applyLog(records);
      await log.reset();
    }
    const index = await this.readIndex(report);
    if (index?.version === INDEX_VERSION && index.clean && (await this.openFromIndex(index))) {
      report.journal = 'used';
      return;
    }
    await this.loadFromRunFiles(index, report);
  }

  /**
   * Opens a cleanly closed store from index.json alone: the open runs' files must match their
   * entries and each journal segment its recorded length, or nothing is kept and the caller reads
   * the runs directory instead. Closed runs are not read (only checked when there are few).
   */
  private async openFromIndex(index: IndexFile): Promise<boolean> {
    const journalDir = path.join(this.dir, JOURNAL_DIR);
    for (const [bucket, bytes] of Object.entries(index.segments)) {
      try {
        const stat = await this.fs.stat(path.join(journalDir, segmentName(index.generation, Number(bucket))));
        if (stat.size !== bytes) return false;
      } catch {
        return false;
      }
    }
    const states: RunState[] = [];
    let matching = true;
    await mapLimit(index.runs, 8, async (entry) => {
      if (!(await this.entryMatchesFile(entry)) || entry.summary.status === 'CORRUPT') matching = false;
      else states.push(this.stateFromIndex(entry.file, entry));
    });
    if (!matching) return false;
    if (index.closedCount <= VERIFY_CLOSED_AT_OPEN) {
      let count = 0;
      for (const [bucket, bytes] of Object.entries(index.segments)) {
        const buf = await this.fs.readFile(
          path.join(journalDir, segmentName(index.generation, Number(bucket))),
        );
        const read = readSegment(buf.subarray(0, bytes), runFileName);
        if (read.problems.length > 0 || buf.length !== bytes) return false;
        for (const entry of read.entries) {
          if (bucketOf(entry.summary.workflowId) !== Number(bucket)) return false;
          if (!(await this.entryMatchesFile(entry))) return false;
          count++;
        }
      }
      if (count !== index.closedCount) return false;
    }
    this.useJournal = true;
    this.generation = index.generation;
    for (const [bucket, bytes] of Object.entries(index.segments))
      this.segmentBytes.set(Number(bucket), bytes);
    this.closedCount = index.closedCount;
    for (const [status, count] of Object.entries(index.closedStatuses))
      this.closedStatuses.set(status, count);
    this.nextSeq = index.nextSeq;
    for (const state of states) {
      this.nextSeq = Math.max(this.nextSeq, state.seq + 1);
      this.addRun(state);
      if (state.summary.status !== 'RUNNING') this.toJournal.add(state);
    }
    if (!this.readOnly) {
      // Until the next clean close the index must not vouch for the runs directory: a crash from
      // here on may leave run files it does not name. Written before any append is accepted.
      this.indexDirty = true;
      await this.writeIndex();
    }
    return true;
  }

  private async entryMatchesFile(entry: IndexEntry): Promise<boolean> {
    try {
      const stat = this.fs.statSync(path.join(this.runsDir, entry.file));
      return stat.isFile() && stat.size === entry.size && stat.mtimeMs === entry.mtimeMs;
    } catch {
      return false;
    }
  }

  /**
   * Reads the runs directory: every file is stat'ed, and read in full unless index.json or the
   * journal has an entry of the same size and mtime. Then (unless read-only) the journal is written
   * anew from what was found, and closed runs leave memory.
   */
  private async loadFromRunFiles(index: IndexFile | undefined, report: FileStoreOpenReport): Promise<void> {
    const hints = new Map<string, IndexEntry>();
    for (const entry of index?.runs ?? []) hints.set(entry.file, entry);
    const journalDir = path.join(this.dir, JOURNAL_DIR);
    let journalFiles: string[] = [];
    try {
      journalFiles = (await this.fs.readdir(journalDir)).map(String);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
    if (index?.version === INDEX_VERSION) {
      // The journal is only a hint here: damaged lines are skipped, their runs' files read.
      for (const name of journalFiles) {
        if (parseSegmentName(name)?.generation !== index.generation) continue;
        const read = readSegment(await this.fs.readFile(path.join(journalDir, name)), runFileName);
        for (const entry of read.entries) if (!hints.has(entry.file)) hints.set(entry.file, entry);
      }
    }
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
      const entry = hints.get(name);
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
    this.nextSeq = Math.max(this.nextSeq, index?.nextSeq ?? 0);
    for (const state of loaded) this.nextSeq = Math.max(this.nextSeq, state.seq + 1);
    rescanned.sort((a, b) => a.startMs - b.startMs || (a.file < b.file ? -1 : 1));
    for (const state of rescanned) state.seq = this.nextSeq++;
    report.corrupt.sort((a, b) => (a.file < b.file ? -1 : 1));
    const all = [...loaded, ...rescanned];
    if (this.readOnly) {
      // Nothing on disk may change: every run is held in memory, as read.
      for (const state of all) this.addRun(state);
      return;
    }
    await this.rebuildJournal(all, index, journalFiles);
    report.journal = 'rebuilt';
  }

  /** Writes a new journal generation holding `states`' closed runs, then index.json naming it. */
  private async rebuildJournal(
    states: RunState[],
    index: IndexFile | undefined,
    journalFiles: string[],
  ): Promise<void> {
    const journalDir = path.join(this.dir, JOURNAL_DIR);
    let generation = index?.version === INDEX_VERSION ? index.generation : 0;
    for (const name of journalFiles)
      generation = Math.max(generation, parseSegmentName(name)?.generation ?? 0);
    generation++;
    this.useJournal = true;
    this.generation = generation;
    if (!index?.clean && !states.some((state) => this.isJournalable(state))) {
      // Nothing to journal, and no index that vouches for anything: nothing to write yet.
      for (const state of states) this.addRun(state);
      for (let bucket = 0; bucket < JOURNAL_BUCKETS; bucket++) this.idsSeen.add(bucket);
      return;
    }
    await this.ensureJournalDir();
    const buckets = new Map<number, string[]>();
    let closedCount = 0;
    for (const state of states) {
      if (!this.isJournalable(state)) {
        this.addRun(state);
        continue;
      }
      const bucket = bucketOf(state.key.workflowId);
      let lines = buckets.get(bucket);
      if (!lines) {
        lines = [];
        buckets.set(bucket, lines);
      }
      lines.push(encodeEntry(this.entryOf(state)));
      this.seeId(state.key.workflowId);
      closedCount++;
      this.countClosed(state);
    }
    for (const [bucket, lines] of buckets) {
      const text = Buffer.from(lines.join(''), 'utf8');
      const handle = await this.fs.open(path.join(journalDir, segmentName(generation, bucket)), 'w');
      try {
        await handle.writeFile(text);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      this.segmentBytes.set(bucket, text.length);
    }
    await fsyncDir(this.fs, journalDir);
    for (let bucket = 0; bucket < JOURNAL_BUCKETS; bucket++) this.idsSeen.add(bucket);
    this.closedCount = closedCount;
    this.journalVersion++;
    this.indexDirty = true;
    await this.writeIndex();
    // The old generation is no longer named by index.json: remove it (a leftover is harmless).
    for (const name of journalFiles) {
      if (parseSegmentName(name)?.generation === generation) continue;
      await this.fs.rm(path.join(journalDir, name), { force: true }).catch(() => {});
    }
  }

  private journalDirMade = false;

  private countClosed(run: RunState): void {
    const status = run.summary.status;
    this.closedStatuses.set(status, (this.closedStatuses.get(status) ?? 0) + 1);
  }

  /** Creates closed/ (its directory entry made durable) the first time it is needed. */
  private async ensureJournalDir(): Promise<void> {
    if (this.journalDirMade) return;
    await this.fs.mkdir(path.join(this.dir, JOURNAL_DIR), { recursive: true });
    await fsyncDir(this.fs, this.dir);
    this.journalDirMade = true;
  }

  /** A closed run whose summary can go to the journal (a corrupt or failed run stays in memory). */
  private isJournalable(state: RunState): boolean {
    return (
      state.summary.status !== 'RUNNING' &&
      state.summary.status !== 'CORRUPT' &&
      !state.corruption &&
      !state.failure &&
      state.summary.historyLength > 0 &&
      state.key.workflowId !== ''
    );
  }

  private entryOf(run: RunState): IndexEntry {
    return {
      file: run.file,
      size: run.durableBytes,
      ...(run.statSize === run.durableBytes && run.statMtimeMs !== undefined
        ? { mtimeMs: run.statMtimeMs }
        : {}),
      seq: run.seq,
      summary: structuredClone(run.summary),
    };
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

  /** index.json, version 1 (every run) or 2; undefined when missing or unreadable. */
  private async readIndex(report: FileStoreOpenReport): Promise<IndexFile | undefined> {
    const raw = await this.readText(path.join(this.dir, 'index.json'));
    if (raw === undefined) return undefined;
    try {
      const value = secureJson.parse(raw) as Partial<IndexFile> | null;
      if ((value?.version !== 1 && value?.version !== INDEX_VERSION) || !Array.isArray(value.runs))
        throw new Error('unknown index');
      for (const entry of value.runs) if (!isRunEntry(entry, runFileName)) throw new Error('bad index entry');
      let index: IndexFile;
      if (value.version === 1) {
        index = {
          version: 1,
          clean: false,
          generation: 0,
          segments: {},
          closedCount: 0,
          closedStatuses: {},
          nextSeq: 0,
          runs: value.runs,
        };
      } else {
        const segments = value.segments;
        if (
          typeof value.clean !== 'boolean' ||
          !Number.isSafeInteger(value.generation) ||
          !Number.isSafeInteger(value.closedCount) ||
          typeof value.closedStatuses !== 'object' ||
          value.closedStatuses === null ||
          Object.values(value.closedStatuses).some((count) => !Number.isSafeInteger(count)) ||
          !Number.isSafeInteger(value.nextSeq) ||
          typeof segments !== 'object' ||
          segments === null ||
          Object.entries(segments).some(
            ([bucket, bytes]) =>
              !/^\d+$/.test(bucket) || Number(bucket) >= JOURNAL_BUCKETS || !Number.isSafeInteger(bytes),
          )
        ) {
          throw new Error('bad index');
        }
        index = value as IndexFile;
      }
      report.index = 'used';
      return index;
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

  private removeRun(state: RunState): void {
    if (this.runs.get(state.file) === state) this.runs.delete(state.file);
    const set = this.byWorkflowId.get(state.key.workflowId);
    set?.delete(state);
    if (set?.size === 0) this.byWorkflowId.delete(state.key.workflowId);
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
    const file = fileNameOf(key);
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
    if (run !== this.lastAppended) {
      // A run that follows a closed one (workflows run one after the other) is still alone.
      if (this.lastAppended && !this.lastAppended.closed) this.lastRunSwitchAt = performance.now();
      this.lastAppended = run;
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

  /** The run of the latest append, and when another open run appended before it (performance.now()). */
  private lastAppended: RunState | undefined;
  private lastRunSwitchAt = 0;

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
    // At most maxOpenFiles runs per sync of the log: their files stay open until it is durable.
    for (let start = 0; start < entries.length; start += this.maxOpenFiles) {
      const chunk = entries.slice(start, start + this.maxOpenFiles);
      const written: [RunState, PendingWrite, number][] = [];
      const records: WalRecord[] = [];
      let created = false;
      // Files are opened concurrently, then written on this thread, unsynced: a write into the page
      // cache is quicker than a hop through libuv's thread pool, and the log below makes it durable.
      const handles = await Promise.all(
        chunk.map(async ([run, p]) => {
          if (run.corruption || run.failure) {
            this.fail(
              run,
              p,
              run.corruption ? new HistoryCorruptError(run.corruption) : this.failureError(run),
            );
            return undefined;
          }
          try {
            return await this.handleFor(run);
          } catch (error) {
            if (errorCode(error) === 'EEXIST' && !run.exists && (await this.refuseExisting(run, p))) {
              return undefined;
            }
            await this.failRun(run, p, error);
            return undefined;
          }
        }),
      );
      for (let i = 0; i < chunk.length; i++) {
        const handle = handles[i];
        if (!handle) continue;
        const [run, p] = chunk[i] as [RunState, PendingWrite];
        const data = Buffer.from(p.text.join(''), 'utf8');
        try {
          let offset = 0;
          while (offset < data.length)
            offset += this.fs.writeSync(handle, data, offset, data.length - offset);
        } catch (error) {
          await this.failRun(run, p, error);
          continue;
        }
        if (!run.exists) created = true;
        written.push([run, p, data.length]);
        records.push({ file: run.file, offset: run.durableBytes, data });
      }
      // One synchronous write makes the chunk's appends durable (the run files are synced later).
      try {
        // While one run alone is appending (a workflow's steps one after the other), its sync is
        // made on this thread, a hop through the thread pool quicker; with several runs at work it
        // goes through the pool, so that the event loop serves the others (and their appends
        // gather into the next batch) while the disk syncs.
        await this.wal?.append(
          records,
          batch.size === 1 && performance.now() - this.lastRunSwitchAt > ALONE_MS,
        );
        this.counters.fsyncs++;
      } catch (error) {
        // Not durable: the runs stop here, their written tails cut off again (best effort: the
        // next opening cuts what is left as a torn write) so that nothing refused is kept.
        for (const [run, p] of written) {
          await this.handles
            .get(run.file)
            ?.truncate(run.durableBytes)
            .catch(() => {});
          await this.failRun(run, p, error);
        }
        written.splice(0, written.length);
      }
      if (created) this.createdSinceCheckpoint = true;
      for (const [run] of written) this.unsynced.add(run.file);
      await this.trimHandles();
      for (const [run, p, bytes] of written) {
        run.exists = true;
        run.durableBytes += bytes;
        this.bytes += bytes;
        applyToSummary(run.summary, p.events);
        if (this.useJournal && this.isJournalable(run)) this.toJournal.add(run);
        for (const w of p.waiters) w.resolve();
      }
    }
    if ((this.wal?.size ?? 0) > WAL_CHECKPOINT_BYTES) await this.checkpoint();
    else this.checkpointWhenIdle();
    this.markIndexDirty();
  }

  /**
   * A checkpoint once appends have paused for a while, so that the run files written meanwhile are
   * synced (and forgotten here) without waiting for the log to fill. It takes the writer's turn.
   */
  private checkpointWhenIdle(): void {
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = undefined;
      if (this.closed) return;
      if (this.flushing) {
        this.checkpointWhenIdle();
        return;
      }
      this.flushing = this.checkpoint().finally(() => {
        this.flushing = this.pending.size > 0 ? this.flushLoop() : undefined;
      });
    }, this.indexDelayMs);
    this.checkpointTimer.unref();
  }

  /**
   * Syncs the run files written since the last checkpoint (and the runs directory, for new files),
   * then empties the write-ahead log. A failure leaves the log as it is: it still holds those bytes.
   */
  private async checkpoint(): Promise<void> {
    if (!this.wal || (this.unsynced.size === 0 && this.wal.size === 0)) return;
    const files = [...this.unsynced];
    try {
      for (let i = 0; i < files.length; i += this.maxOpenFiles) {
        await Promise.all(files.slice(i, i + this.maxOpenFiles).map((file) => this.syncRunFile(file)));
      }
      if (this.createdSinceCheckpoint) {
        await fsyncDir(this.fs, this.runsDir);
        this.counters.dirFsyncs++;
      }
      await this.wal.reset();
      this.unsynced.clear();
      this.createdSinceCheckpoint = false;
      this.counters.checkpoints++;
    } catch {
      // Kept for the next checkpoint; until then the log is the durable copy.
    }
  }

  private async syncRunFile(file: string): Promise<void> {
    const open = this.handles.get(file);
    if (open) {
      await open.datasync();
      return;
    }
    const handle = await this.fs.open(path.join(this.runsDir, file), 'r');
    try {
      await handle.datasync();
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /**
   * Puts the log's records back into the run files: a record whose bytes a file lacks (or holds
   * otherwise) is written at its offset. Returns the files repaired, after syncing them.
   */
  private async applyLog(records: WalRecord[]): Promise<string[]> {
    const repaired = new Set<string>();
    let created = false;
    for (const record of records) {
      const file = path.join(this.runsDir, record.file);
      let handle: FileHandle;
      try {
        handle = await this.fs.open(file, fsConstants.O_RDWR);
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw error;
        handle = await this.fs.open(file, fsConstants.O_RDWR | fsConstants.O_CREAT);
        created = true;
      }
      try {
        const present = Buffer.alloc(record.data.length);
        const { bytesRead } = await handle.read(present, 0, present.length, record.offset);
        if (bytesRead === present.length && present.equals(record.data)) continue;
        const { size } = await handle.stat();
        // A gap before the record (an earlier one was lost too) cannot be: records come in order.
        if (size < record.offset) continue;
        await handle.write(record.data, 0, record.data.length, record.offset);
        repaired.add(record.file);
      } finally {
        await handle.close().catch(() => {});
      }
    }
    for (const name of repaired) await this.syncRunFile(name);
    if (created) await fsyncDir(this.fs, this.runsDir);
    return [...repaired].sort();
  }

  /**
   * A new run's file already exists: a closed run that is in the journal, not in memory. The start
   * is refused as a conflict and the run's state here dropped; true when that was the case.
   */
  private async refuseExisting(run: RunState, p: PendingWrite): Promise<boolean> {
    const entry = this.useJournal ? await this.findClosed(run.key).catch(() => undefined) : undefined;
    if (!entry) return false;
    const error = new HistoryConflictError(run.key, 1, entry.summary.historyLength + 1);
    for (const w of p.waiters) w.reject(error);
    const later = this.pending.get(run);
    if (later && later !== p) {
      this.pending.delete(run);
      for (const w of later.waiters) w.reject(error);
    }
    this.removeRun(run);
    return true;
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

  /** A run whose file could not be opened or written: it takes no more appends. */
  private async failRun(run: RunState, p: PendingWrite, error: unknown): Promise<void> {
    run.failure = error instanceof Error ? error : new Error(String(error));
    await this.closeHandle(run.file);
    this.fail(run, p, this.failureError(run));
  }

  private async handleFor(run: RunState): Promise<FileHandle> {
    const cached = this.handles.get(run.file);
    if (cached && !run.exists) await this.closeHandle(run.file);
    else if (cached) {
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
    const file = fileNameOf(key);
    let run = this.runs.get(file);
    if (!run && this.useJournal && !this.gone.has(file)) {
      const entry = await this.findClosed(key);
      run = this.runs.get(file);
      if (!run && entry) return this.readClosed(entry);
    }
    if (!run || (run.summary.historyLength === 0 && !run.corruption)) throw new RunNotFoundError(key);
    if (run.corruption) throw new HistoryCorruptError(run.corruption);
    return this.readRunFile(run);
  }

  /** A closed run held only in the journal: its file is read, and any damage reported and kept. */
  private async readClosed(entry: RunEntry): Promise<HistoryEvent[]> {
    const state = this.stateFromIndex(entry.file, structuredClone(entry));
    try {
      return await this.readRunFile(state);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') {
        // Deleted behind the store's back (as told to, for a corrupt run): no longer listed.
        this.gone.add(entry.file);
        this.journalStale = true;
        throw new RunNotFoundError(state.key);
      }
      if (error instanceof HistoryCorruptError && !this.runs.has(entry.file)) {
        this.addRun(state); // listed as CORRUPT from now on, over its journal entry
        this.journalStale = true;
      }
      throw error;
    }
  }

  private async readRunFile(run: RunState): Promise<HistoryEvent[]> {
    const key = run.key;
    const file = path.join(this.runsDir, run.file);
    const durable = run.durableBytes;
    // Most histories are small: read on this thread, without a round trip through the thread pool.
    const buf = (
      durable <= SMALL_FILE_BYTES ? this.fs.readFileSync(file) : await this.fs.readFile(file)
    ).subarray(0, durable);
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
    // Memory first, then the journal: a run journaled in between is in both, and counted once.
    const result: { summary: RunSummary; startMs: number; seq: number; file: string }[] = [];
    const held = new Set<string>();
    // One workflow ID's runs are indexed: a look-up by ID (a result, a describe) does not scan them all.
    const candidates = filter.workflowId
      ? (this.byWorkflowId.get(filter.workflowId) ?? [])
      : this.runs.values();
    for (const run of candidates) {
      held.add(run.file);
      if (run.summary.historyLength === 0 && !run.corruption) continue;
      if (matches(run.summary, filter)) result.push(run);
    }
    for (const entry of await this.closedEntries(filter)) {
      if (held.has(entry.file) || this.gone.has(entry.file) || !matches(entry.summary, filter)) continue;
      result.push(entry);
    }
    // Two sorted runs when the journal part comes from the listing cache: the sort merges them.
    result.sort((a, b) => b.startMs - a.startMs || b.seq - a.seq);
    return result.map((r) => {
      const copy = copySummary(r.summary);
      // A summary is often passed back as the key of a read (recovery reads every open run).
      fileNames.set(copy, { workflowId: copy.workflowId, runId: copy.runId, name: r.file });
      return copy;
    });
  }

  async latestRun(workflowId: string): Promise<RunSummary | undefined> {
    let best: { summary: RunSummary; startMs: number; seq: number } | undefined;
    const held = new Set<string>();
    const consider = (candidate: { summary: RunSummary; startMs: number; seq: number }) => {
      if (
        !best ||
        candidate.startMs > best.startMs ||
        (candidate.startMs === best.startMs && candidate.seq > best.seq)
      )
        best = candidate;
    };
    for (const run of this.byWorkflowId.get(workflowId) ?? []) {
      held.add(run.file);
      if (run.summary.historyLength === 0 && !run.corruption) continue;
      consider(run);
    }
    for (const entry of await this.closedEntries({ workflowId })) {
      if (held.has(entry.file) || this.gone.has(entry.file) || entry.summary.workflowId !== workflowId)
        continue;
      consider(entry);
    }
    return best ? copySummary(best.summary) : undefined;
  }

  /** Journal entries that may match `filter` (the caller checks each): one segment for a workflow ID. */
  private async closedEntries(filter: ListRunsFilter): Promise<ClosedRun[]> {
    if (!this.useJournal || filter.status === 'RUNNING' || filter.status === 'CORRUPT') return [];
    if (filter.workflowId !== undefined) {
      return this.closedOfWorkflow(filter.workflowId, needleFor('workflowId', filter.workflowId));
    }
    if (filter.status === undefined) return this.allClosed();
    const count = this.closedStatuses.get(filter.status) ?? 0;
    if (count === 0) return [];
    // A rare status (continued-as-new runs at start-up, failures) is found by a scan that decodes
    // only its lines; a common one is listed from the cached listing, page after page.
    if (count * 10 > this.closedCount) return this.allClosed();
    return this.readBuckets(needleFor('status', filter.status));
  }

  /** Every closed run, kept a few seconds for the next page of a listing (then let go). */
  private async allClosed(): Promise<ClosedRun[]> {
    const cached = this.listCache;
    if (cached?.version === this.journalVersion) {
      cached.timer.refresh();
      return cached.entries;
    }
    const version = this.journalVersion;
    const entries = await this.readBuckets();
    entries.sort((a, b) => b.startMs - a.startMs || b.seq - a.seq);
    if (version !== this.journalVersion) return entries;
    if (this.listCache) clearTimeout(this.listCache.timer);
    const timer = setTimeout(() => {
      this.listCache = undefined;
    }, LIST_CACHE_MS);
    timer.unref();
    this.listCache = { version, entries, timer };
    return entries;
  }

  /** Every segment (a few read at once), in bucket order. */
  private async readBuckets(needle?: string): Promise<ClosedRun[]> {
    const buckets = [...this.segmentBytes.keys()].sort((a, b) => a - b);
    const read: ClosedRun[][] = [];
    await mapLimit(
      buckets.map((bucket, i) => ({ bucket, i })),
      16,
      async ({ bucket, i }) => {
        read[i] = await this.readBucket(bucket, needle);
      },
    );
    return read.flat();
  }

  private async findClosed(key: RunKey): Promise<RunEntry | undefined> {
    const file = runFileName(key);
    const entries = await this.closedOfWorkflow(key.workflowId, needleFor('file', file));
    return entries.find((entry) => entry.file === file);
  }

  /**
   * Journal entries of one workflow ID's segment that may match `needle`. The first read of a segment
   * notes every workflow ID in it in a bitmap; after that, an ID the bitmap has never seen (a new
   * workflow ID, as most starts are) is answered without reading the disk.
   */
  private async closedOfWorkflow(workflowId: string, needle: string): Promise<ClosedRun[]> {
    const bucket = bucketOf(workflowId);
    if (this.idsSeen.has(bucket)) {
      return this.maySeeId(workflowId) ? this.readBucket(bucket, needle) : [];
    }
    const entries = await this.readBucket(bucket);
    for (const entry of entries) this.seeId(entry.summary.workflowId);
    this.idsSeen.add(bucket);
    return entries; // the whole segment: callers check each entry
  }

  private idBit(workflowId: string): number {
    return Number.parseInt(crc32Hex(workflowId), 16) >>> (32 - ID_BITMAP_BITS_LOG2);
  }

  /** Notes a workflow ID with closed runs in the journal (before its entry can be read). */
  private seeId(workflowId: string): void {
    const bit = this.idBit(workflowId);
    this.idBitmap[bit >>> 5]! |= 1 << (bit & 31);
  }

  private maySeeId(workflowId: string): boolean {
    const bit = this.idBit(workflowId);
    return (this.idBitmap[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }

  /** One journal segment, up to what was synced; each run once (the last line of it wins). */
  private async readBucket(bucket: number, needle?: string): Promise<ClosedRun[]> {
    const bytes = this.segmentBytes.get(bucket);
    if (!bytes) return [];
    const generation = this.generation;
    const buf = await this.fs.readFile(path.join(this.dir, JOURNAL_DIR, segmentName(generation, bucket)));
    const read = readSegment(buf.subarray(0, bytes), undefined, needle);
    if (read.problems.length > 0 || buf.length < bytes) this.journalStale = true;
    const byFile = new Map<string, ClosedRun>();
    for (const entry of read.entries) {
      byFile.set(entry.file, { ...entry, startMs: Date.parse(entry.summary.startTime) });
    }
    return [...byFile.values()];
  }

  // ------------------------------------------------------------------------------------------------
  // Index and journal

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

  /**
   * Moves closed runs to the journal, then writes index.json atomically (tmp, fsync, rename, fsync
   * dir). `clean` (close() only) tells the next open that no run file changes after it.
   */
  async writeIndex(clean = false): Promise<void> {
    if (this.readOnly) return;
    while (this.indexWriting) await this.indexWriting;
    if (!this.indexDirty && this.toJournal.size === 0 && clean === this.indexClean) return;
    this.indexDirty = false;
    this.indexWriting = (async () => {
      await this.appendToJournal();
      const runs: IndexEntry[] = [];
      // A clean index must name every run file: one left out (corrupt, failed) sends the next open
      // to the runs directory, where it is found and reported again.
      let leftOut = false;
      for (const run of this.runs.values()) {
        if (run.summary.historyLength === 0 && !run.corruption && !run.failure) continue;
        if (run.corruption || run.failure) {
          leftOut = true;
          continue;
        }
        if (run.statSize !== run.durableBytes) {
          // Grown since it was last stat'ed: read its mtime (only files that changed pay for this;
          // on this thread: a stat is quicker than its hop through the thread pool).
          try {
            const stat = this.fs.statSync(path.join(this.runsDir, run.file));
            run.statSize = stat.size;
            run.statMtimeMs = stat.mtimeMs;
          } catch {
            leftOut = true;
            continue;
          }
        }
        runs.push(this.entryOf(run));
      }
      const writeClean = clean && !this.journalStale && !leftOut;
      const index: IndexFile = {
        version: INDEX_VERSION,
        clean: writeClean,
        generation: this.generation,
        segments: Object.fromEntries(
          [...this.segmentBytes].map(([bucket, bytes]) => [String(bucket), bytes]),
        ),
        closedCount: this.closedCount,
        closedStatuses: Object.fromEntries(this.closedStatuses),
        nextSeq: this.nextSeq,
        runs,
      };
      const target = path.join(this.dir, 'index.json');
      const tmp = `${target}.${process.pid}.tmp`;
      try {
        const handle = await this.fs.open(tmp, 'w');
        try {
          await handle.writeFile(JSON.stringify(index));
          await handle.datasync();
        } finally {
          await handle.close();
        }
        await this.fs.rename(tmp, target);
        await fsyncDir(this.fs, this.dir);
        this.indexClean = writeClean;
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

  /**
   * Appends the runs closed since the last write to their journal segments (synced), then lets them
   * go from memory. A failure leaves them in memory and the journal stale (rebuilt at next open).
   */
  private async appendToJournal(): Promise<void> {
    if (!this.useJournal || this.journalStale || this.toJournal.size === 0) return;
    const runs = [...this.toJournal];
    this.toJournal.clear();
    const buckets = new Map<number, { runs: RunState[]; lines: string[] }>();
    for (const run of runs) {
      if (!this.isJournalable(run)) continue;
      if (run.statSize !== run.durableBytes) {
        try {
          const stat = this.fs.statSync(path.join(this.runsDir, run.file));
          run.statSize = stat.size;
          run.statMtimeMs = stat.mtimeMs;
        } catch {
          continue; // stays in memory
        }
      }
      const bucket = bucketOf(run.key.workflowId);
      let group = buckets.get(bucket);
      if (!group) {
        group = { runs: [], lines: [] };
        buckets.set(bucket, group);
      }
      group.runs.push(run);
      group.lines.push(encodeEntry(this.entryOf(run)));
      this.seeId(run.key.workflowId); // before its entry can be read (a failed write leaves a harmless "maybe")
    }
    if (buckets.size === 0) return;
    const dir = path.join(this.dir, JOURNAL_DIR);
    const written = new Map<number, number>();
    try {
      await this.ensureJournalDir();
      let created = false;
      for (const [bucket, group] of buckets) {
        const data = Buffer.from(group.lines.join(''), 'utf8');
        const isNew = !this.segmentBytes.has(bucket);
        // A new segment starts empty (whatever an earlier failed attempt left is overwritten).
        const handle = await this.fs.open(
          path.join(dir, segmentName(this.generation, bucket)),
          isNew ? 'w' : 'a',
        );
        try {
          let offset = 0;
          while (offset < data.length) {
            const { bytesWritten } = await handle.write(data, offset, data.length - offset);
            offset += bytesWritten;
          }
          await handle.datasync();
        } finally {
          await handle.close();
        }
        if (isNew) created = true;
        written.set(bucket, (this.segmentBytes.get(bucket) ?? 0) + data.length);
      }
      if (created) {
        await fsyncDir(this.fs, dir);
        this.counters.dirFsyncs++;
      }
    } catch {
      this.journalStale = true; // the runs stay in memory; the next open rebuilds the journal
      return;
    }
    for (const [bucket, bytes] of written) this.segmentBytes.set(bucket, bytes);
    this.journalVersion++;
    for (const group of buckets.values()) {
      for (const run of group.runs) {
        this.closedCount++;
        this.countClosed(run);
        if (!this.isJournalable(run)) continue; // found corrupt meanwhile: it stays, listed CORRUPT
        this.removeRun(run);
        void this.closeHandle(run.file); // synchronously out of the map: a new file is never written through it
      }
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
      await this.checkpoint();
      if (this.indexTimer) clearTimeout(this.indexTimer);
      if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
      if (this.listCache) clearTimeout(this.listCache.timer);
      this.listCache = undefined;
      this.indexTimer = undefined;
      await this.writeIndex(true).catch(() => {});
    } finally {
      for (const file of [...this.handles.keys()]) await this.closeHandle(file);
      await this.wal?.close();
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
