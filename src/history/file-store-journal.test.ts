import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultyFileSystem } from '../../test/support/faulty-fs.js';
import { sampleHistory, T } from '../../test/support/history-samples.js';
import { bucketOf, encodeEntry, JOURNAL_BUCKETS, segmentName } from './closed-journal.js';
import type { HistoryEvent } from './events.js';
import { FileHistoryStore, runFileName } from './file-store.js';
import { HistoryConflictError, HistoryCorruptError, type RunKey, RunNotFoundError } from './store.js';

// The closed-run journal (closed/): closed runs leave memory, are read from disk on demand, and
// whenever the journal and the run files disagree the journal is rebuilt from the run files.

let dir: string;
const open: FileHistoryStore[] = [];

async function openStore(at = dir): Promise<FileHistoryStore> {
  const store = await FileHistoryStore.open(at);
  open.push(store);
  return store;
}

async function closeStore(store: FileHistoryStore): Promise<void> {
  open.splice(open.indexOf(store), 1);
  await store.close();
}

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wf-journal-'));
});

afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
  await fs.rm(dir, { recursive: true, force: true });
});

function started(workflowId: string, runId: string, eventTime = T): HistoryEvent {
  return { ...sampleHistory(workflowId, runId)[0]!, eventTime } as HistoryEvent;
}

/** `n` closed runs (a completed sample history each) and one open run. */
async function seed(store: FileHistoryStore, n: number): Promise<RunKey[]> {
  const keys = Array.from({ length: n }, (_, i) => ({ workflowId: `wf-${i % 7}`, runId: `run-${i}` }));
  for (const [i, key] of keys.entries()) {
    // later runs start later (a rebuilt journal orders runs by start time, then by file name)
    const eventTime = new Date(Date.parse(T) + i * 1000).toISOString();
    await store.append(
      key,
      sampleHistory(key.workflowId, key.runId).map((e) => ({ ...e, eventTime })),
    );
  }
  await store.append({ workflowId: 'open', runId: 'o' }, [started('open', 'o')]);
  return keys;
}

async function segments(): Promise<string[]> {
  return (await fs.readdir(path.join(dir, 'closed'))).sort();
}

async function expectAllThere(store: FileHistoryStore, keys: RunKey[]): Promise<void> {
  const listed = await store.listRuns();
  expect(listed).toHaveLength(keys.length + 1);
  expect(listed.filter((r) => r.status === 'COMPLETED')).toHaveLength(keys.length);
  expect(await store.listRuns({ status: 'RUNNING' })).toMatchObject([{ workflowId: 'open' }]);
  for (const key of keys) expect(await store.readHistory(key)).toHaveLength(10);
  const latest = keys.filter((k) => k.workflowId === 'wf-1').at(-1);
  expect((await store.latestRun('wf-1'))?.runId).toBe(latest?.runId);
}

describe('the closed-run journal of the file store', () => {
  it('keeps closed runs on disk only, serves them, and opens a cleanly closed store without reading runs/', async () => {
    const store = await openStore();
    const keys = await seed(store, 30);
    expect(store.stats().heldRuns).toBe(31);
    await store.writeIndex();
    expect(store.stats().heldRuns).toBe(1); // only the open run stays in memory
    await expectAllThere(store, keys);
    expect(await store.listRuns({ workflowId: 'wf-2' })).toHaveLength(4);
    expect(await store.listRuns({ status: 'COMPLETED', workflowType: 'orderWorkflow' })).toHaveLength(30);
    // starting a closed run again is a conflict, not a write into its file
    await expect(store.append(keys[0]!, [started('wf-0', 'run-0')])).rejects.toBeInstanceOf(
      HistoryConflictError,
    );
    expect(await store.readHistory(keys[0]!)).toHaveLength(10);
    await closeStore(store);
    const index = JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8'));
    expect(index).toMatchObject({ version: 2, clean: true, closedCount: 30 });
    expect(index.runs).toHaveLength(1); // index.json names the open runs only

    const reopened = await openStore();
    expect(reopened.openReport()).toMatchObject({ index: 'used', journal: 'used', rescanned: 0 });
    expect(reopened.stats().heldRuns).toBe(1);
    await expectAllThere(reopened, keys);
    // while it runs, index.json no longer vouches for the runs directory
    expect(JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8')).clean).toBe(false);
  });

  it('lists a rare status by a scan of its lines, and a listing sees runs journaled after it', async () => {
    const store = await openStore();
    const keys = await seed(store, 30);
    const terminate = async (workflowId: string) => {
      const key = { workflowId, runId: 't' };
      await store.append(key, [
        started(workflowId, 't'),
        { eventId: 2, eventTime: T, type: 'WorkflowExecutionTerminated', reason: 'test' },
      ]);
    };
    await terminate('ended-1');
    await store.writeIndex();
    expect(store.stats().heldRuns).toBe(1);
    expect(await store.listRuns({ status: 'TERMINATED' })).toMatchObject([{ workflowId: 'ended-1' }]);
    expect(await store.listRuns({ status: 'FAILED' })).toEqual([]);
    expect(await store.listRuns()).toHaveLength(32);
    await terminate('ended-2');
    expect(await store.listRuns()).toHaveLength(33); // held in memory, not yet journaled
    await store.writeIndex();
    expect(store.stats().heldRuns).toBe(1);
    const listed = await store.listRuns();
    expect(listed).toHaveLength(33);
    expect(new Set(listed.map((r) => `${r.workflowId}/${r.runId}`)).size).toBe(33);
    expect((await store.listRuns({ status: 'TERMINATED' })).map((r) => r.workflowId).sort()).toEqual([
      'ended-1',
      'ended-2',
    ]);
    // summaries handed out are copies
    listed[0]!.status = 'FAILED';
    expect((await store.listRuns({ status: 'FAILED' })).length).toBe(0);
    for (const key of keys) expect(await store.readHistory(key)).toHaveLength(10);
  });

  it('a journal append cut short by a full disk keeps the runs in memory, and the next open rebuilds the journal', async () => {
    const faulty = new FaultyFileSystem();
    const store = await FileHistoryStore.open(dir, { fs: faulty.fs });
    open.push(store);
    const keys = await seed(store, 4);
    await store.writeIndex();
    const more = [{ workflowId: 'wf-1', runId: 'late' }];
    const later = new Date(Date.parse(T) + 100_000).toISOString();
    await store.append(
      more[0]!,
      sampleHistory('wf-1', 'late').map((e) => ({ ...e, eventTime: later })),
    );
    const journal = path.join(dir, 'closed');
    faulty.inject({
      call: 'handle.write',
      code: 'ENOSPC',
      path: (f) => f.startsWith(journal),
      partial: true,
    });
    await store.writeIndex(); // the journal append fails half-way; index.json is still written
    expect(store.stats().heldRuns).toBe(2); // the run that could not be journaled stays in memory
    await expectAllThere(store, [...keys, ...more]);
    faulty.heal();
    await closeStore(store);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8')).clean).toBe(false);
    const reopened = await openStore();
    expect(reopened.openReport().journal).toBe('rebuilt');
    expect(reopened.stats().heldRuns).toBe(1);
    expect((await reopened.latestRun('wf-1'))?.runId).toBe('late');
    expect(await reopened.listRuns()).toHaveLength(6);
  });

  it('answers a look-up of a workflow ID without closed runs from memory once its segment was read', async () => {
    const store = await openStore();
    const keys = await seed(store, 10);
    await closeStore(store);
    const faulty = new FaultyFileSystem();
    const s = await FileHistoryStore.open(dir, { fs: faulty.fs });
    open.push(s);
    // read every segment once: a look-up of one ID per segment
    const probes = new Map<number, string>();
    for (let i = 0; probes.size < JOURNAL_BUCKETS; i++) probes.set(bucketOf(`probe-${i}`), `probe-${i}`);
    for (const id of probes.values()) expect(await s.latestRun(id)).toBeUndefined();
    // a run closed and journaled after that is found (its ID was noted when it was written)
    const fresh = { workflowId: 'fresh', runId: 'f' };
    await s.append(fresh, sampleHistory('fresh', 'f'));
    await s.writeIndex();
    expect(s.stats().heldRuns).toBe(1);
    expect((await s.latestRun('fresh'))?.runId).toBe('f');
    expect(await s.listRuns({ workflowId: 'fresh' })).toHaveLength(1);
    // from now on the journal cannot be read: new IDs are still answered, from memory
    faulty.inject({ call: 'readFile', code: 'EIO', path: (f) => f.includes(`${path.sep}closed${path.sep}`) });
    let answered = 0;
    for (let i = 0; i < 200; i++) {
      const result = await s.latestRun(`new-${i}`).then(
        (r) => r ?? 'none',
        () => 'read',
      );
      expect(['none', 'read']).toContain(result);
      if (result === 'none') answered++;
    }
    expect(answered).toBeGreaterThanOrEqual(190);
    await expect(s.latestRun(keys[0]!.workflowId)).rejects.toThrow(/EIO/); // a known ID: read from disk
  });

  it('after a crash (index.json not clean) reads runs/ and rebuilds the journal, losing nothing', async () => {
    const store = await openStore();
    const keys = await seed(store, 20);
    await store.writeIndex(); // 20 runs journaled
    const late = { workflowId: 'late', runId: 'l' };
    await store.append(late, sampleHistory('late', 'l')); // acknowledged after the last index write
    // a kill -9 now: copy the store as it is on disk (without the LOCK of this live process)
    const copy = `${dir}-copy`;
    execFileSync('cp', ['-a', dir, copy]); // keeps every file's mtime to the nanosecond
    await fs.rm(path.join(copy, 'LOCK'));
    try {
      const crashed = await openStore(copy);
      expect(crashed.openReport()).toMatchObject({ index: 'used', journal: 'rebuilt', rescanned: 1 });
      expect(await crashed.readHistory(late)).toHaveLength(10);
      await expectAllThere(crashed, [...keys, late]);
      expect((await fs.readdir(path.join(copy, 'closed'))).every((n) => n.startsWith('2-'))).toBe(true);
      await closeStore(crashed);
    } finally {
      await fs.rm(copy, { recursive: true, force: true });
    }
  });

  it('rebuilds the journal from the run files when it is missing, torn, damaged or stale', async () => {
    const store = await openStore();
    const keys = await seed(store, 12);
    await closeStore(store);
    const indexFile = path.join(dir, 'index.json');
    const cleanIndex = await fs.readFile(indexFile, 'utf8');
    const segment = path.join(dir, 'closed', segmentName(1, bucketOf('wf-1')));

    // torn tail: half a line at the end of a segment
    await fs.appendFile(
      segment,
      encodeEntry({ file: 'x', size: 1, seq: 1, summary: {} as never }).slice(0, 20),
    );
    let s = await openStore();
    expect(s.openReport()).toMatchObject({ journal: 'rebuilt', rescanned: 0 });
    await expectAllThere(s, keys);
    await closeStore(s);

    // a damaged line (same size): the checksum finds it at open
    const gen2 = path.join(dir, 'closed', segmentName(2, bucketOf('wf-1')));
    const text = await fs.readFile(gen2, 'utf8');
    await fs.writeFile(gen2, text.replace('"COMPLETED"', '"COMPLETEX"'));
    s = await openStore();
    expect(s.openReport()).toMatchObject({ journal: 'rebuilt' });
    await expectAllThere(s, keys);
    await closeStore(s);

    // missing
    await fs.rm(path.join(dir, 'closed'), { recursive: true });
    s = await openStore();
    expect(s.openReport()).toMatchObject({ journal: 'rebuilt', rescanned: 12 }); // the open run: from index.json
    await expectAllThere(s, keys);
    await closeStore(s);

    // stale: an older index.json (generation 1) against the journal of generation 4
    await fs.writeFile(indexFile, cleanIndex);
    s = await openStore();
    expect(s.openReport()).toMatchObject({ journal: 'rebuilt' });
    await expectAllThere(s, keys);
    await closeStore(s);
    expect(await segments()).not.toContain(segmentName(1, bucketOf('wf-1')));
  });

  it('a closed run changed or deleted behind the store is found on read, listed CORRUPT or gone, and reported at the next open', async () => {
    const store = await openStore();
    const keys = await seed(store, 3);
    await closeStore(store);
    const file = path.join(dir, 'runs', runFileName(keys[1]!));
    const lines = (await fs.readFile(file, 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('"eventId":2', '"eventId":7');
    await fs.writeFile(file, lines.join('\n'));
    // a small store checks each closed run's file at open
    let s = await openStore();
    expect(s.openReport().journal).toBe('rebuilt');
    expect(s.openReport().corrupt).toEqual([expect.objectContaining({ file, line: 2 })]);
    expect(await s.listRuns({ status: 'CORRUPT' })).toHaveLength(1);
    await closeStore(s);

    // deleted while the store is open: not found, and no longer listed
    s = await openStore();
    const gone = path.join(dir, 'runs', runFileName(keys[2]!));
    await fs.rm(gone);
    await expect(s.readHistory(keys[2]!)).rejects.toBeInstanceOf(RunNotFoundError);
    expect((await s.listRuns()).map((r) => r.runId)).not.toContain('run-2');
    await expect(s.readHistory(keys[1]!)).rejects.toBeInstanceOf(HistoryCorruptError);
    await closeStore(s);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8')).clean).toBe(false);
    s = await openStore();
    expect(s.openReport()).toMatchObject({ journal: 'rebuilt' });
    expect((await s.listRuns()).map((r) => r.runId).sort()).toEqual(['o', 'run-0', 'run-1']);
  });

  it('migrates a store whose index.json holds every run (version 1) without reading the run files', async () => {
    const store = await openStore();
    const keys = await seed(store, 5);
    await closeStore(store);
    // the index of earlier versions: every run's entry in one file
    const runs = [];
    for (const name of await fs.readdir(path.join(dir, 'runs'))) {
      const full = path.join(dir, 'runs', name);
      const stat = await fs.stat(full);
      const key = name.startsWith('open')
        ? { workflowId: 'open', runId: 'o' }
        : keys.find((k) => runFileName(k) === name)!;
      const summary = (await (await openStoreReadOnly()).listRuns({ workflowId: key.workflowId })).find(
        (r) => r.runId === key.runId,
      );
      runs.push({ file: name, size: stat.size, mtimeMs: stat.mtimeMs, seq: runs.length, summary });
    }
    await fs.rm(path.join(dir, 'closed'), { recursive: true });
    await fs.writeFile(path.join(dir, 'index.json'), JSON.stringify({ version: 1, runs }));
    const migrated = await openStore();
    expect(migrated.openReport()).toMatchObject({ index: 'used', journal: 'rebuilt', rescanned: 0 });
    await expectAllThere(migrated, keys);
    await closeStore(migrated);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8'))).toMatchObject({
      version: 2,
      clean: true,
      closedCount: 5,
    });
  });
});

async function openStoreReadOnly(): Promise<FileHistoryStore> {
  const store = await FileHistoryStore.open(dir, { lock: false });
  open.push(store);
  return store;
}
