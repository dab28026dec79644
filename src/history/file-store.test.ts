import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultyFileSystem } from '../../test/support/faulty-fs.js';
import { sampleHistory, T } from '../../test/support/history-samples.js';
import { InvalidArgumentError, StoreEnvironmentError, StoreLockedError } from '../common/errors.js';
import { serializeEvent, serializeEventWithCrc } from './codec.js';
import type { HistoryEvent } from './events.js';
import { FileHistoryStore, readHistoryFile, runFileName } from './file-store.js';
import { currentProcess, holderState, processStartTime } from './process-identity.js';
import { HistoryConflictError, HistoryCorruptError, RunNotFoundError } from './store.js';

let dir: string;
const open: FileHistoryStore[] = [];
const children: ChildProcess[] = [];

async function openStore(options?: Parameters<typeof FileHistoryStore.open>[1]): Promise<FileHistoryStore> {
  const store = await FileHistoryStore.open(dir, options);
  open.push(store);
  return store;
}

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wf-store-'));
});

afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await fs.rm(dir, { recursive: true, force: true });
});

/** A store on a file system that fails on demand, holding run a (two events) and run b (one). */
async function faultyStoreWithTwoRuns() {
  const faulty = new FaultyFileSystem();
  const store = await FileHistoryStore.open(dir, { fs: faulty.fs });
  const a = { workflowId: 'a', runId: 'r' };
  const b = { workflowId: 'b', runId: 'r' };
  await store.append(a, [started('a', 'r'), signal(2)]);
  await store.append(b, [started('b', 'r')]);
  return { faulty, store, a, b, fileA: store.runFilePath(a) };
}

function started(workflowId: string, runId: string, eventTime = T): HistoryEvent {
  return { ...sampleHistory(workflowId, runId)[0]!, eventTime } as HistoryEvent;
}

function signal(eventId: number): HistoryEvent {
  return { eventId, eventTime: T, type: 'WorkflowSignaled', signalName: 's', args: [eventId] };
}

async function runFiles(): Promise<string[]> {
  return (await fs.readdir(path.join(dir, 'runs'))).sort();
}

describe('FileHistoryStore', () => {
  it('round-trips a history and lists it', async () => {
    const store = await openStore();
    const key = { workflowId: 'order-1', runId: 'run-1' };
    const events = sampleHistory(key.workflowId, key.runId);
    await store.append(key, events.slice(0, 3));
    await store.append(key, events.slice(3));
    expect(await store.readHistory(key)).toEqual(events);
    const [summary] = await store.listRuns();
    expect(summary).toMatchObject({
      ...key,
      workflowType: 'orderWorkflow',
      status: 'COMPLETED',
      historyLength: 10,
    });
    expect((await store.latestRun('order-1'))?.runId).toBe('run-1');
    await expect(store.readHistory({ workflowId: 'order-1', runId: 'nope' })).rejects.toBeInstanceOf(
      RunNotFoundError,
    );
    // every line ends with its crc, and the file reads back with readHistoryFile
    const text = await fs.readFile(store.runFilePath(key), 'utf8');
    expect(text.split('\n')[0]).toMatch(/,"crc":"[0-9a-f]{8}"\}$/);
    expect(await readHistoryFile(store.runFilePath(key))).toEqual(events);
  });

  it('refuses an append at the wrong position, and events after a closing event', async () => {
    const store = await openStore();
    const key = { workflowId: 'w', runId: 'r' };
    await store.append(key, [started('w', 'r'), signal(2)]);
    await expect(store.append(key, [signal(2)])).rejects.toBeInstanceOf(HistoryConflictError);
    await expect(store.append(key, [signal(4)])).rejects.toBeInstanceOf(HistoryConflictError);
    await expect(store.append(key, [signal(3), signal(5)])).rejects.toBeInstanceOf(HistoryConflictError);
    // a queued (not yet durable) append already moves the position
    const a = store.append(key, [signal(3)]);
    await expect(store.append(key, [signal(3)])).rejects.toBeInstanceOf(HistoryConflictError);
    await a;
    await store.append(key, [{ eventId: 4, eventTime: T, type: 'WorkflowExecutionCompleted', result: 1 }]);
    await expect(store.append(key, [signal(5)])).rejects.toBeInstanceOf(InvalidArgumentError);
    // a new run must start with WorkflowExecutionStarted naming the same IDs
    await expect(store.append({ workflowId: 'x', runId: 'y' }, [signal(1)])).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(
      store.append({ workflowId: 'x', runId: 'y' }, [started('x', 'other')]),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    // an event that would not read back is refused before it is written
    await expect(
      store.append(key, [{ eventId: 5, eventTime: T, type: 'TimerFired' } as unknown as HistoryEvent]),
    ).rejects.toThrow(/closed|missing "seq"/);
    expect(await store.readHistory(key)).toHaveLength(4);
  });

  it('makes 200 concurrent runs durable with one sync of the write-ahead log per maxOpenFiles runs of a batch', async () => {
    const store = await openStore({ maxOpenFiles: 64 });
    const keys = Array.from({ length: 200 }, (_, i) => ({ workflowId: `wf-${i}`, runId: `run-${i}` }));
    // five appends per run issued at once: they join one group commit
    const first = keys.flatMap((k) => [
      store.append(k, [started(k.workflowId, k.runId)]),
      ...[2, 3, 4, 5].map((id) => store.append(k, [signal(id)])),
    ]);
    await Promise.all(first);
    let stats = store.stats();
    expect(stats.appends).toBe(1000);
    expect(stats.batches).toBe(1);
    expect(stats.fsyncs).toBe(Math.ceil(200 / 64));
    expect(stats.dirFsyncs).toBe(0); // at the next checkpoint
    // then each run appends in a loop, each append waiting for the previous: appends arriving while a
    // sync is in flight are batched together
    await Promise.all(
      keys.map(async (k) => {
        for (let id = 6; id <= 15; id++) await store.append(k, [signal(id)]);
      }),
    );
    stats = store.stats();
    expect(stats.appends).toBe(3000);
    expect(stats.batches).toBeLessThan(100);
    expect(stats.fsyncs).toBeLessThanOrEqual(stats.batches * Math.ceil(200 / 64));
    await store.close();
    const reopened = await openStore();
    expect(reopened.openReport().index).toBe('used');
    expect(reopened.openReport().rescanned).toBe(0);
    expect(await reopened.listRuns()).toHaveLength(200);
    for (const k of keys) {
      const history = await reopened.readHistory(k);
      expect(history.map((e) => e.eventId)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    }
  });

  it('syncs appends that arrive while a sync is in flight together, and bounds open files', async () => {
    const store = await openStore({ maxOpenFiles: 64 });
    const key = { workflowId: 'one', runId: 'r' };
    const first = store.append(key, [started('one', 'r')]);
    const rest = await new Promise<Promise<void>[]>((resolve) =>
      setImmediate(() => resolve(Array.from({ length: 50 }, (_, i) => store.append(key, [signal(i + 2)])))),
    );
    await Promise.all([first, ...rest]);
    expect(store.stats()).toMatchObject({ appends: 51, events: 51 });
    expect(store.stats().batches).toBeLessThanOrEqual(2);
    expect(store.stats().fsyncs).toBeLessThanOrEqual(2);
    expect(await store.readHistory(key)).toHaveLength(51);

    const keys = Array.from({ length: 150 }, (_, i) => ({ workflowId: `w${i}`, runId: 'r' }));
    await Promise.all(keys.map((k) => store.append(k, [started(k.workflowId, 'r')])));
    expect(store.stats().openFiles).toBeLessThanOrEqual(64);
    await Promise.all(keys.map((k) => store.append(k, [signal(2)])));
    expect(store.stats().openFiles).toBeLessThanOrEqual(64);
    for (const k of keys) expect(await store.readHistory(k)).toHaveLength(2);
  });

  it('has everything after reopening, and continues appending', async () => {
    const store = await openStore();
    const a = { workflowId: 'a', runId: '1' };
    const b = { workflowId: 'a', runId: '2' };
    await store.append(a, sampleHistory('a', '1'));
    await store.append(b, [started('a', '2', '2024-05-02T00:00:00.000Z'), signal(2)]);
    await store.close();
    const reopened = await openStore();
    expect(await reopened.readHistory(a)).toEqual(sampleHistory('a', '1'));
    expect((await reopened.listRuns()).map((r) => r.runId)).toEqual(['2', '1']);
    expect((await reopened.latestRun('a'))?.runId).toBe('2');
    expect(await reopened.listRuns({ status: 'COMPLETED' })).toHaveLength(1);
    await expect(reopened.append(b, [signal(2)])).rejects.toBeInstanceOf(HistoryConflictError);
    await reopened.append(b, [signal(3)]);
    expect(await reopened.readHistory(b)).toHaveLength(3);
  });

  it('truncates a torn final record after backing the file up', async () => {
    const store = await openStore();
    const key = { workflowId: 'torn', runId: 'r' };
    await store.append(key, [started('torn', 'r'), signal(2), signal(3)]);
    await store.close();
    const file = path.join(dir, 'runs', runFileName(key));
    const good = await fs.readFile(file);
    // a crash in the middle of writing event 4: part of the line, no newline
    const partial = serializeEventWithCrc(signal(4)).slice(0, 25);
    await fs.appendFile(file, partial);
    const reopened = await openStore();
    const report = reopened.openReport();
    expect(report.truncated).toHaveLength(1);
    expect(report.truncated[0]).toMatchObject({ file, bytes: partial.length });
    expect(report.truncated[0]!.backup).toMatch(/backups[/\\].*\.torn$/);
    expect(await fs.readFile(report.truncated[0]!.backup, 'utf8')).toBe(good.toString() + partial);
    expect(await fs.readFile(file)).toEqual(good);
    expect(report.corrupt).toEqual([]);
    expect(await reopened.readHistory(key)).toHaveLength(3);
    await reopened.append(key, [signal(4)]);
    await reopened.close();

    // a complete last line with zero-filled sectors in it (a write cut short) is also cut off
    const whole = serializeEventWithCrc(signal(5));
    const line = `${whole.slice(0, 10)}${'\u0000'.repeat(whole.length - 10)}\n`;
    await fs.appendFile(file, line);
    const third = await openStore();
    expect(third.openReport().truncated[0]?.bytes).toBe(Buffer.byteLength(line));
    expect(await third.readHistory(key)).toHaveLength(4);
    await third.close();

    // a complete last line that was changed (not zero-filled) is damage: reported, never cut
    const damaged = `${serializeEventWithCrc(signal(5)).replace('"s"', '"x"')}\n`;
    await fs.appendFile(file, damaged);
    const fourth = await openStore();
    expect(fourth.openReport().truncated).toEqual([]);
    expect(fourth.openReport().corrupt).toEqual([expect.objectContaining({ file, line: 5 })]);
  });

  it('removes a run file whose first record was torn', async () => {
    await fs.mkdir(path.join(dir, 'runs'), { recursive: true });
    const key = { workflowId: 'w', runId: 'r' };
    await fs.writeFile(
      path.join(dir, 'runs', runFileName(key)),
      serializeEventWithCrc(started('w', 'r')).slice(0, 40),
    );
    const store = await openStore();
    expect(store.openReport().truncated).toHaveLength(1);
    expect(store.openReport().removedEmpty).toHaveLength(1);
    expect(await store.listRuns()).toEqual([]);
    await store.append(key, [started('w', 'r')]);
    expect(await store.readHistory(key)).toHaveLength(1);
  });

  it('reports a corrupt middle line with its line number, and the rest of the store works', async () => {
    const store = await openStore();
    const bad = { workflowId: 'bad', runId: 'r' };
    const good = { workflowId: 'good', runId: 'r' };
    await store.append(bad, [started('bad', 'r'), signal(2), signal(3), signal(4)]);
    await store.append(good, [started('good', 'r')]);
    await store.close();
    const file = path.join(dir, 'runs', runFileName(bad));
    const lines = (await fs.readFile(file, 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('"args":[2]', '"args":[7]'); // bit rot on line 2
    await fs.writeFile(file, lines.join('\n'));
    const before = await fs.readFile(file);

    // with the index (same file size), the damage is found on the first read of the run
    const indexed = await openStore();
    expect(indexed.openReport().index).toBe('used');
    await expect(indexed.readHistory(bad)).rejects.toThrow(`${file}:2: checksum mismatch`);
    expect((await indexed.listRuns({ status: 'CORRUPT' }))[0]?.corruption?.line).toBe(2);
    await indexed.close();
    expect(JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8')).runs).toHaveLength(1);

    // without an index entry (here: no index), opening scans the file and finds it
    await fs.rm(path.join(dir, 'index.json'));
    const reopened = await openStore();
    const corrupt = reopened.openReport().corrupt;
    expect(corrupt).toEqual([{ file, line: 2, message: expect.stringMatching(/checksum mismatch/) }]);
    const listed = await reopened.listRuns({ status: 'CORRUPT' });
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ workflowId: 'bad', runId: 'r', corruption: { file, line: 2 } });
    const error = await reopened.readHistory(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HistoryCorruptError);
    expect((error as Error).message).toContain(`${file}:2:`);
    await expect(reopened.append(bad, [signal(5)])).rejects.toBeInstanceOf(HistoryCorruptError);
    expect(await fs.readFile(file)).toEqual(before);
    // others are fine
    await reopened.append(good, [signal(2)]);
    await reopened.append({ workflowId: 'new', runId: 'r' }, [started('new', 'r')]);
    expect(await reopened.readHistory(good)).toHaveLength(2);
    expect(await reopened.listRuns()).toHaveLength(3);
  });

  it('reports a gap in event ids and a schema violation as corruption', async () => {
    await fs.mkdir(path.join(dir, 'runs'), { recursive: true });
    const gap = { workflowId: 'gap', runId: 'r' };
    const gapLines = [started('gap', 'r'), signal(2), signal(4), signal(5)].map(serializeEventWithCrc);
    await fs.writeFile(path.join(dir, 'runs', runFileName(gap)), `${gapLines.join('\n')}\n`);
    const schema = { workflowId: 'schema', runId: 'r' };
    const schemaLines = [
      serializeEventWithCrc(started('schema', 'r')),
      serializeEvent({ eventId: 2, eventTime: T, type: 'TimerFired' } as unknown as HistoryEvent),
      serializeEventWithCrc(signal(3)),
    ];
    await fs.writeFile(path.join(dir, 'runs', runFileName(schema)), `${schemaLines.join('\n')}\n`);
    const store = await openStore();
    const byId = new Map((await store.listRuns()).map((r) => [r.workflowId, r]));
    expect(byId.get('gap')?.corruption).toMatchObject({
      line: 3,
      message: expect.stringMatching(/event 2 is followed by event 4/),
    });
    expect(byId.get('schema')?.corruption).toMatchObject({
      line: 2,
      message: 'event 2 (TimerFired) is missing "seq"',
    });
  });

  it('keeps hostile IDs inside the store', async () => {
    const store = await openStore();
    const ids = [
      '../../etc/passwd',
      '/absolute/path',
      'CON',
      'nul',
      'a\u0000b',
      'with/slash\\and:colon',
      '.',
      '..',
      'x'.repeat(1000),
      'ünïcødé 😀',
    ];
    for (const [i, workflowId] of ids.entries()) {
      const runId = i % 2 ? '../run' : `r${i}`;
      await store.append({ workflowId, runId }, [started(workflowId, runId)]);
    }
    const files = await runFiles();
    expect(files).toHaveLength(ids.length);
    for (const f of files) {
      expect(f).toMatch(/^[a-z0-9_-]{0,32}_[0-9a-f]{32}\.jsonl$/);
      expect(f.length).toBeLessThan(80);
    }
    expect((await fs.readdir(dir)).sort()).toEqual(['LOCK', 'runs', 'wal.log']);
    await store.close();
    const reopened = await openStore();
    for (const [i, workflowId] of ids.entries()) {
      const runId = i % 2 ? '../run' : `r${i}`;
      const [event] = await reopened.readHistory({ workflowId, runId });
      expect(event).toMatchObject({ workflowId, runId });
    }
    await expect(reopened.append({ workflowId: '', runId: 'r' }, [started('', 'r')])).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    const long = 'x'.repeat(1001);
    await expect(
      reopened.append({ workflowId: long, runId: 'r' }, [started(long, 'r')]),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(reopened.readHistory({ workflowId: 'w', runId: '' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('refuses a store locked by a live process, naming its pid', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(child);
    const pid = child.pid!;
    const startedAt = new Date().toISOString();
    await fs.writeFile(path.join(dir, 'LOCK'), JSON.stringify({ pid, hostname: os.hostname(), startedAt }));
    const error = await FileHistoryStore.open(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreLockedError);
    expect((error as StoreLockedError).code).toBe('UNAVAILABLE');
    expect((error as Error).message).toBe(
      `another wf process (pid ${pid}, started ${startedAt}) is using the store ${dir}: stop it, or use --store to pick another directory. If you are sure no wf process uses this store, remove ${path.join(dir, 'LOCK')} and start again.`,
    );
    // a read-only opening does not need the lock
    const readOnly = await openStore({ lock: false });
    expect(await readOnly.listRuns()).toEqual([]);
    await expect(readOnly.append({ workflowId: 'w', runId: 'r' }, [started('w', 'r')])).rejects.toThrow(
      /read-only/,
    );
  });

  it('refuses a second opening in the same process, and releases the lock on close', async () => {
    const store = await openStore();
    await expect(FileHistoryStore.open(dir)).rejects.toBeInstanceOf(StoreLockedError);
    await store.close();
    await expect(fs.stat(path.join(dir, 'LOCK'))).rejects.toThrow();
    await openStore();
  });

  it('takes over the lock of a dead process', async () => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    const pid = child.pid!;
    await new Promise((resolve) => child.on('exit', resolve));
    const stale = { pid, hostname: os.hostname(), startedAt: '2024-01-01T00:00:00.000Z' };
    await fs.writeFile(path.join(dir, 'LOCK'), JSON.stringify(stale));
    const store = await openStore();
    expect(store.openReport().lockTakenOver).toMatchObject({ previous: stale });
    expect(store.openReport().lockTakenOver?.message).toContain(`pid ${pid}`);
    const lock = JSON.parse(await fs.readFile(path.join(dir, 'LOCK'), 'utf8'));
    expect(lock).toMatchObject({ pid: process.pid, hostname: os.hostname() });
    expect((await fs.readdir(dir)).filter((f) => f.startsWith('LOCK'))).toEqual(['LOCK']);
  });

  it('takes over a lock that holds its own pid: an earlier incarnation (PID 1 in a restarted container)', async () => {
    // The previous process had this pid (and another token): it cannot be running, since we are.
    const earlier = { pid: process.pid, hostname: os.hostname(), startedAt: T, token: 'an-earlier-process' };
    await fs.writeFile(path.join(dir, 'LOCK'), JSON.stringify(earlier));
    const store = await openStore();
    expect(store.openReport().lockTakenOver).toMatchObject({ previous: earlier });
    expect(store.openReport().lockTakenOver?.message).toContain('same pid');
    const lock = JSON.parse(await fs.readFile(path.join(dir, 'LOCK'), 'utf8'));
    expect(lock).toMatchObject({ pid: process.pid, token: expect.any(String) });
    expect(lock.token).not.toBe('an-earlier-process');
    // A lock of an older wf without a token, holding our pid, is an earlier process's too.
    await store.close();
    await fs.writeFile(
      path.join(dir, 'LOCK'),
      JSON.stringify({ pid: process.pid, hostname: os.hostname(), startedAt: T }),
    );
    expect((await openStore()).openReport().lockTakenOver?.previous?.pid).toBe(process.pid);
  });

  it('takes over a lock whose pid now belongs to an unrelated live process, and refuses the real holder', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(child);
    const pid = child.pid!;
    await new Promise((resolve) => child.once('spawn', resolve));
    const holder = { pid, hostname: os.hostname(), startedAt: T, token: 'x' };
    const realStart = await processStartTime(pid);
    expect(realStart).toMatch(/^proc:\d+$/);
    // The live child started later than the process that wrote the lock: the pid was reused.
    const reused = { ...holder, processStart: 'proc:1' };
    await fs.writeFile(path.join(dir, 'LOCK'), JSON.stringify(reused));
    const store = await openStore();
    expect(store.openReport().lockTakenOver?.message).toContain('its pid now belongs to another process');
    await store.close();
    // The same live process that wrote the lock: refused.
    await fs.writeFile(path.join(dir, 'LOCK'), JSON.stringify({ ...holder, processStart: realStart }));
    await expect(FileHistoryStore.open(dir)).rejects.toBeInstanceOf(StoreLockedError);
    // A holder from before a reboot is not running, whatever runs under its pid now.
    const me = await currentProcess();
    expect(me.bootId).toBeDefined();
    await fs.writeFile(
      path.join(dir, 'LOCK'),
      JSON.stringify({ ...holder, processStart: realStart, bootId: 'another-boot' }),
    );
    expect((await openStore()).openReport().lockTakenOver?.message).toContain('restarted');
  });

  it('tells a reused pid by `ps` start times where there is no /proc', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(child);
    await new Promise((resolve) => child.once('spawn', resolve));
    const pid = child.pid!;
    const start = await processStartTime(pid, 'ps');
    expect(start).toMatch(/^ps:\S/);
    const holder = { pid, hostname: os.hostname(), startedAt: T, token: 'x' };
    expect(await holderState({ ...holder, processStart: start! }, 'ps')).toEqual({ alive: true });
    expect(await holderState({ ...holder, processStart: 'ps:Thu Jan  1 00:00:00 1970' }, 'ps')).toMatchObject(
      {
        alive: false,
      },
    );
    // No start time to compare (an older lock, or Windows): a live pid counts as the holder.
    expect(await holderState(holder, 'none')).toEqual({ alive: true });
    expect(await holderState({ ...holder, hostname: 'elsewhere' })).toEqual({ alive: 'unknown' });
  });

  it.runIf(process.platform === 'linux')(
    'takes over the lock of a holder killed and not yet reaped (a zombie, as under a PID 1 that does not reap)',
    async () => {
      // bash starts a child that exits shortly, then becomes `sleep`, which never reaps it.
      const parent = spawn('bash', ['-c', 'sleep 0.2 & echo $!; exec sleep 30'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      children.push(parent);
      const pid = Number(
        await new Promise<string>((resolve) => parent.stdout!.once('data', (d) => resolve(String(d)))),
      );
      await expect
        .poll(async () => (await fs.readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.[0])
        .toBe('Z');
      const holder = {
        pid,
        hostname: os.hostname(),
        startedAt: T,
        token: 'killed',
        processStart: (await processStartTime(pid))!,
      };
      expect(await holderState(holder)).toMatchObject({
        alive: false,
        reason: expect.stringMatching(/reaped/),
      });
      await fs.writeFile(path.join(dir, 'LOCK'), JSON.stringify(holder));
      const store = await openStore();
      expect(store.openReport().lockTakenOver?.previous?.pid).toBe(pid);
    },
  );

  it('sets aside a takeover marker left by a process killed in the middle of a takeover', async () => {
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => dead.on('exit', resolve));
    const stale = { pid: dead.pid!, hostname: os.hostname(), startedAt: T };
    const markers = [
      JSON.stringify(stale), // this version's marker
      String(dead.pid), // an older version's marker: the bare pid
      JSON.stringify({ pid: process.pid, hostname: os.hostname(), startedAt: T, token: 'earlier' }), // PID 1 again
    ];
    for (const marker of markers) {
      await fs.writeFile(path.join(dir, 'LOCK'), JSON.stringify(stale));
      await fs.writeFile(path.join(dir, 'LOCK.takeover'), marker); // fresh: the 10 s rule does not apply
      const store = await openStore();
      expect(store.openReport().lockTakenOver?.previous?.pid).toBe(dead.pid);
      expect((await fs.readdir(dir)).filter((f) => f.startsWith('LOCK'))).toEqual(['LOCK']);
      await store.close();
    }
    // Leftovers of processes killed in the middle: their private lock files, a marker set aside.
    const old = new Date(Date.now() - 60_000);
    const leftovers = [`LOCK.${dead.pid}.0a1b2c.tmp`, 'LOCK.takeover.0a1b2c.stale'];
    for (const name of leftovers) {
      await fs.writeFile(path.join(dir, name), JSON.stringify(stale));
      await fs.utimes(path.join(dir, name), old, old);
    }
    await openStore();
    expect((await fs.readdir(dir)).filter((f) => f.startsWith('LOCK'))).toEqual(['LOCK']);
  });

  it('waits for a live process taking over the lock, then takes the lock', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(child);
    await new Promise((resolve) => child.once('spawn', resolve));
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => dead.on('exit', resolve));
    await fs.writeFile(
      path.join(dir, 'LOCK'),
      JSON.stringify({ pid: dead.pid, hostname: os.hostname(), startedAt: T }),
    );
    const marker = path.join(dir, 'LOCK.takeover');
    await fs.writeFile(marker, JSON.stringify({ pid: child.pid, hostname: os.hostname(), startedAt: T }));
    // The live marker holder finishes its takeover (here: gives up) while we wait.
    const opening = FileHistoryStore.open(dir);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect((await fs.stat(marker)).isFile()).toBe(true); // not set aside: its holder runs
    await fs.rm(marker);
    open.push(await opening);
  });

  it('rebuilds a missing, stale or unreadable index', async () => {
    const store = await openStore();
    const a = { workflowId: 'a', runId: 'r' };
    const b = { workflowId: 'b', runId: 'r' };
    await store.append(a, [started('a', 'r'), signal(2)]);
    await store.append(b, [started('b', 'r')]);
    await store.close();
    const indexFile = path.join(dir, 'index.json');
    const index = await fs.readFile(indexFile, 'utf8');

    await fs.rm(indexFile);
    let s = await openStore();
    expect(s.openReport()).toMatchObject({ index: 'missing', rescanned: 2 });
    expect(await s.listRuns()).toHaveLength(2);
    await s.close();

    // stale: the file grew after the index was written (e.g. a crash before the next index write)
    await fs.writeFile(indexFile, index);
    await fs.appendFile(path.join(dir, 'runs', runFileName(a)), `${serializeEventWithCrc(signal(3))}\n`);
    s = await openStore();
    expect(s.openReport()).toMatchObject({ index: 'used', rescanned: 1 });
    expect((await s.listRuns({ workflowId: 'a' }))[0]?.historyLength).toBe(3);
    await s.append(a, [signal(4)]);
    await s.close();

    await fs.writeFile(indexFile, '{"version":1,"runs":[{"file":');
    s = await openStore();
    expect(s.openReport()).toMatchObject({ index: 'unreadable', rescanned: 2 });
    expect((await s.listRuns({ workflowId: 'a' }))[0]?.historyLength).toBe(4);
    await s.close();
    expect(JSON.parse(await fs.readFile(indexFile, 'utf8')).runs).toHaveLength(2);
  });

  it('reads one history file with file:line errors', async () => {
    const file = path.join(dir, 'fixture.jsonl');
    const events = sampleHistory();
    await fs.writeFile(file, `${events.map(serializeEvent).join('\n')}\n`);
    expect(await readHistoryFile(file)).toEqual(events);
    await fs.writeFile(file, `${events.map(serializeEvent).join('\n')}\n{oops\n`);
    const error = await readHistoryFile(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HistoryCorruptError);
    expect((error as HistoryCorruptError).corruption).toMatchObject({ file, line: 11 });
  });
});

describe('FileHistoryStore on a machine that refuses (full disk, permissions, I/O errors)', () => {
  it('reports a full disk while backing up a torn tail as the environment, and changes nothing', async () => {
    const store = await openStore();
    const key = { workflowId: 'torn', runId: 'r' };
    await store.append(key, [started('torn', 'r'), signal(2)]);
    await store.close();
    const file = path.join(dir, 'runs', runFileName(key));
    await fs.appendFile(file, serializeEventWithCrc(signal(3)).slice(0, 20));
    const before = await fs.readFile(file);
    const faulty = new FaultyFileSystem();
    faulty.inject({ call: 'copyFile', code: 'ENOSPC', partial: true }); // the disk fills up mid-copy
    const error = await FileHistoryStore.open(dir, { fs: faulty.fs }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreEnvironmentError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', errno: 'ENOSPC', path: file });
    const message = (error as Error).message;
    expect(message).toContain(`cannot open the store ${dir}: copyfile ${file} -> `);
    expect(message).toContain('failed with ENOSPC (the disk is full)');
    expect(message).toContain('not of wf');
    expect(message).toContain('free some space');
    expect(await fs.readFile(file)).toEqual(before); // not cut without its backup
    expect(await fs.readdir(path.join(dir, 'backups'))).toEqual([]); // no partial backup left
    expect((await fs.readdir(dir)).filter((f) => f.startsWith('LOCK'))).toEqual([]); // lock released
    faulty.heal();
    const healed = await openStore({ fs: faulty.fs });
    expect(healed.openReport().truncated).toHaveLength(1);
  });

  it.each([
    ['link', 'EACCES', 'permission denied'],
    ['mkdir', 'EROFS', 'the file system is read-only'],
    ['writeFile', 'EDQUOT', 'disk quota is used up'],
    ['readdir', 'EIO', 'the disk reported an I/O error'],
  ] as const)('reports %s failing with %s on opening as the environment', async (call, code, meaning) => {
    const faulty = new FaultyFileSystem();
    faulty.inject({ call, code });
    const error = await FileHistoryStore.open(dir, { fs: faulty.fs }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreEnvironmentError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^cannot open the store .*: ${call.toLowerCase()} .+ failed with ${code} \\([^)]*${meaning}`,
      ),
    );
  });

  it('creates a store several directories deep', async () => {
    const deep = path.join(dir, 'a', 'b', 'c', '.wf');
    const store = await FileHistoryStore.open(deep);
    await store.append({ workflowId: 'w', runId: 'r' }, [started('w', 'r')]);
    await store.close();
    expect((await FileHistoryStore.open(deep, { lock: false }).then((s) => s.listRuns())).length).toBe(1);
  });

  it.skipIf(!existsSync('/proc/self'))(
    'refuses a store where no directory can be made (/proc), instead of looping in mkdir',
    async () => {
      const error = await FileHistoryStore.open('/proc/wf-nope/.wf').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreEnvironmentError);
      expect((error as Error).message).toContain('cannot create the directory /proc/wf-nope');
    },
  );

  it('a run file that cannot be read fails that read alone, with its cause; the next read works', async () => {
    const { faulty, store, a, b, fileA } = await faultyStoreWithTwoRuns();
    faulty.inject({ call: 'readFile', code: 'EIO', path: (f) => f === fileA, times: 1 });
    await expect(store.readHistory(a)).rejects.toThrow(/EIO/);
    expect(faulty.failed).toEqual([{ call: 'readFile', path: fileA, code: 'EIO' }]);
    expect(await store.readHistory(b)).toHaveLength(1);
    expect((await store.readHistory(a)).map((e) => e.eventId)).toEqual([1, 2]);
    await store.append(a, [signal(3)]);
    expect((await store.readHistory(a)).map((e) => e.eventId)).toEqual([1, 2, 3]);
  });

  it('a failed append is never acknowledged, stops the run, and loses nothing acknowledged before', async () => {
    const { faulty, store, a, b, fileA } = await faultyStoreWithTwoRuns();
    faulty.inject({ call: 'handle.write', code: 'ENOSPC', path: (f) => f === fileA, partial: true });
    const error = await store.append(a, [signal(3)]).catch((e: unknown) => e);
    expect((error as Error).message).toContain('failed with ENOSPC (the disk is full)');
    expect((error as Error).message).toContain('Nothing acknowledged before is lost');
    // Later appends to that run are refused (its tail is unknown); other runs carry on.
    await expect(store.append(a, [signal(3)])).rejects.toThrow(/ENOSPC/);
    await store.append(b, [signal(2)]);
    faulty.heal();
    await store.close();
    // Half of event 3 reached the disk: cut at the next opening, as a torn write.
    const reopened = await openStore();
    expect(reopened.openReport().truncated).toEqual([expect.objectContaining({ file: fileA })]);
    expect((await reopened.readHistory(a)).map((e) => e.eventId)).toEqual([1, 2]);
    expect((await reopened.readHistory(b)).map((e) => e.eventId)).toEqual([1, 2]);
    await reopened.append(a, [signal(3)]);
  });
});
