import * as fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultyFileSystem } from '../../test/support/faulty-fs.js';
import { sampleHistory, T } from '../../test/support/history-samples.js';
import type { HistoryEvent } from './events.js';
import { FileHistoryStore } from './file-store.js';
import { parseWal, WAL_FILE } from './write-ahead-log.js';

let dir: string;
const open: FileHistoryStore[] = [];

async function openStore(options?: Parameters<typeof FileHistoryStore.open>[1]): Promise<FileHistoryStore> {
  const store = await FileHistoryStore.open(dir, options);
  open.push(store);
  return store;
}

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wf-wal-'));
});

afterEach(async () => {
  for (const store of open.splice(0)) await store.close().catch(() => {});
  await fs.rm(dir, { recursive: true, force: true });
});

const started = (workflowId: string, runId: string): HistoryEvent =>
  ({ ...sampleHistory(workflowId, runId)[0]!, eventTime: T }) as HistoryEvent;
const signal = (eventId: number): HistoryEvent => ({
  eventId,
  eventTime: T,
  type: 'WorkflowSignaled',
  signalName: 's',
  args: [eventId],
});

/** A copy of the store as a machine that lost power right now would find it on its disk's cache. */
async function crashCopy(): Promise<string> {
  const copy = `${dir}-crash`;
  await fs.cp(dir, copy, { recursive: true });
  await fs.rm(path.join(copy, 'LOCK'), { force: true });
  return copy;
}

describe('the file store with its write-ahead log', () => {
  it('makes a batch of appends to many runs durable with one sync, and gives back what a run file lost', async () => {
    const store = await openStore();
    const keys = Array.from({ length: 10 }, (_, i) => ({ workflowId: `w${i}`, runId: 'r' }));
    await Promise.all(keys.map((k) => store.append(k, [started(k.workflowId, 'r'), signal(2)])));
    expect(store.stats().fsyncs).toBe(1);
    await Promise.all(keys.map((k) => store.append(k, [signal(3)])));
    // The power goes: one run file lost its last append from the disk's cache, another its whole file.
    const copy = await crashCopy();
    const lostTail = store.runFilePath(keys[3]!).replace(dir, copy);
    const text = await fs.readFile(lostTail, 'utf8');
    await fs.writeFile(lostTail, text.slice(0, text.lastIndexOf('\n', text.length - 2) + 1));
    await fs.rm(store.runFilePath(keys[7]!).replace(dir, copy));

    const reopened = await FileHistoryStore.open(copy);
    open.push(reopened);
    expect(reopened.openReport().restoredFromLog).toEqual(
      [path.basename(lostTail), path.basename(store.runFilePath(keys[7]!))].sort(),
    );
    for (const k of keys) {
      expect((await reopened.readHistory(k)).map((e) => e.eventId)).toEqual([1, 2, 3]);
    }
    await reopened.close();
    await fs.rm(copy, { recursive: true, force: true });
  });

  it('ignores a log record cut short: it was never acknowledged', async () => {
    const store = await openStore();
    const key = { workflowId: 'a', runId: 'r' };
    await store.append(key, [started('a', 'r'), signal(2)]);
    const copy = await crashCopy();
    // Half of the next record reached the log when the machine stopped.
    await fs.appendFile(path.join(copy, WAL_FILE), 'W 0123abcd 999 40 "x.jsonl"\n{"eventId":');
    const reopened = await FileHistoryStore.open(copy);
    open.push(reopened);
    expect((await reopened.readHistory(key)).map((e) => e.eventId)).toEqual([1, 2]);
    expect(reopened.openReport().restoredFromLog).toEqual([]);
    // The log was emptied once its records were applied: appending goes on after them.
    expect((await fs.stat(path.join(copy, WAL_FILE))).size).toBe(0);
    await reopened.append(key, [signal(3)]);
    expect(parseWal(await fs.readFile(path.join(copy, WAL_FILE))).records).toHaveLength(1);
    await reopened.close();
    await fs.rm(copy, { recursive: true, force: true });
  });

  it('syncs the run files and empties the log once appends pause, without a close', async () => {
    const store = await openStore({ indexDelayMs: 50 });
    await store.append({ workflowId: 'a', runId: 'r' }, [started('a', 'r')]);
    await store.append({ workflowId: 'a', runId: 'r' }, [signal(2)]);
    await expect.poll(() => store.stats().checkpoints, { timeout: 5000 }).toBe(1);
    expect((await fs.stat(path.join(dir, WAL_FILE))).size).toBe(0);
    await store.append({ workflowId: 'a', runId: 'r' }, [signal(3)]);
    expect((await store.readHistory({ workflowId: 'a', runId: 'r' })).map((e) => e.eventId)).toEqual([
      1, 2, 3,
    ]);
  });

  it('syncs the run files and empties the log at a clean close', async () => {
    const store = await openStore();
    await store.append({ workflowId: 'a', runId: 'r' }, [started('a', 'r')]);
    expect((await fs.stat(path.join(dir, WAL_FILE))).size).toBeGreaterThan(0);
    await store.close();
    expect((await fs.stat(path.join(dir, WAL_FILE))).size).toBe(0);
    expect(store.stats().checkpoints).toBe(1);
  });

  it('refuses the appends of a batch whose log write fails, and keeps none of them', async () => {
    const faulty = new FaultyFileSystem();
    const store = await openStore({ fs: faulty.fs });
    const a = { workflowId: 'a', runId: 'r' };
    const b = { workflowId: 'b', runId: 'r' };
    await store.append(a, [started('a', 'r'), signal(2)]);
    await store.append(b, [started('b', 'r')]);
    faulty.inject({ call: 'handle.write', code: 'ENOSPC', path: (f) => f.endsWith(WAL_FILE) });
    const refused = await Promise.allSettled([store.append(a, [signal(3)]), store.append(b, [signal(2)])]);
    expect(refused.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((refused[0] as PromiseRejectedResult).reason)).toContain('ENOSPC');
    faulty.heal();
    await store.close();
    const reopened = await openStore();
    expect((await reopened.readHistory(a)).map((e) => e.eventId)).toEqual([1, 2]);
    expect((await reopened.readHistory(b)).map((e) => e.eventId)).toEqual([1]);
  });
  it('cuts a log record that a failing disk wrote half of, so the records after it still count', async () => {
    const faulty = new FaultyFileSystem();
    const store = await openStore({ fs: faulty.fs });
    const a = { workflowId: 'a', runId: 'r' };
    const b = { workflowId: 'b', runId: 'r' };
    await store.append(a, [started('a', 'r')]);
    await store.append(b, [started('b', 'r')]);
    faulty.inject({ call: 'handle.write', code: 'EIO', partial: true, path: (f) => f.endsWith(WAL_FILE) });
    await expect(store.append(a, [signal(2)])).rejects.toThrow(/EIO/);
    faulty.heal();
    await store.append(b, [signal(2)]);
    // A power cut now: b's run file lost its last append; the log must still give it back.
    const copy = await crashCopy();
    const fileB = store.runFilePath(b).replace(dir, copy);
    const text = await fs.readFile(fileB, 'utf8');
    await fs.writeFile(fileB, text.slice(0, text.indexOf('\n') + 1));
    const reopened = await FileHistoryStore.open(copy);
    open.push(reopened);
    expect((await reopened.readHistory(b)).map((e) => e.eventId)).toEqual([1, 2]);
    expect((await reopened.readHistory(a)).map((e) => e.eventId)).toEqual([1]);
    await reopened.close();
    await fs.rm(copy, { recursive: true, force: true });
  });
});
