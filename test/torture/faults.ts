/**
 * The fault cases of the torture suite, each fast: a write torn at every offset of a last line,
 * garbage in the middle of a file, a disk that fills up or fails under a running server. Used by
 * `npm run torture` and by test/torture-faults.test.ts in `npm test`.
 */
import * as fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { plainReporter } from '../../src/devserver/dev-reporter.js';
import { startDevServer } from '../../src/devserver/dev-server.js';
import { resolveProject } from '../../src/devserver/project-config.js';
import { serializeEventWithCrc } from '../../src/history/codec.js';
import type { HistoryEvent } from '../../src/history/events.js';
import { FileHistoryStore, runFileName } from '../../src/history/file-store.js';
import { HistoryCorruptError, type RunKey } from '../../src/history/store.js';
import { FaultyFileSystem } from '../support/faulty-fs.js';
import { sampleHistory } from '../support/history-samples.js';
import { expectedResult, TALLY, tortureProject } from './project.js';
import { api, canonical, check, freePort, makeProject, sleep } from './support.js';

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'wf-torture-store-'));
}

async function quietly<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await tempDir();
  try {
    return await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

const lineOf = (event: HistoryEvent) => Buffer.from(`${serializeEventWithCrc(event)}\n`, 'utf8');

/**
 * A last line cut at every byte offset (no newline), and completed with zero bytes at every offset
 * (sectors the disk never wrote): each is cut off after a backup, the run keeps every earlier event,
 * and appending goes on. A complete last line with a changed byte is reported, never cut.
 */
export async function tornTailsAtEveryOffset(): Promise<{ cases: number; bytes: number }> {
  return quietly(async (dir) => {
    const key: RunKey = { workflowId: 'torn', runId: 'r1' };
    // The last event holds multi-byte characters, so some cuts fall inside a UTF-8 sequence.
    const events = sampleHistory(key.workflowId, key.runId).slice(0, 8);
    const last = events[events.length - 1]!;
    const good = Buffer.concat(events.slice(0, -1).map(lineOf));
    const line = lineOf(last);
    const file = path.join(dir, 'runs', runFileName(key));
    let cases = 0;
    const attempt = async (content: Buffer, expectCut: boolean, what: string) => {
      await fs.rm(path.join(dir, 'backups'), { recursive: true, force: true });
      if (cases % 2 === 0) await fs.rm(path.join(dir, 'index.json'), { force: true });
      await fs.writeFile(file, content);
      const store = await FileHistoryStore.open(dir, { indexDelayMs: 60_000 });
      try {
        const report = store.openReport();
        if (expectCut) {
          check(
            report.truncated.length === 1 && report.truncated[0]!.bytes === content.length - good.length,
            () =>
              `${what}: expected a cut of ${content.length - good.length} bytes, got ${JSON.stringify(report)}`,
          );
          const backup = await fs.readFile(report.truncated[0]!.backup);
          check(backup.equals(content), () => `${what}: the backup is not the file as found`);
          check(
            (await fs.readFile(file)).equals(good),
            () => `${what}: the file was not cut back to its good part`,
          );
          const history = await store.readHistory(key);
          check(
            canonical(history) === canonical(events.slice(0, -1)),
            () => `${what}: the events before the torn line changed`,
          );
          await store.append(key, [last]);
          check(
            canonical(await store.readHistory(key)) === canonical(events),
            () => `${what}: appending after the cut`,
          );
        } else {
          check(
            report.truncated.length === 0 &&
              report.corrupt.length === 1 &&
              report.corrupt[0]!.line === events.length,
            () =>
              `${what}: expected the run reported corrupt at line ${events.length}, got ${JSON.stringify(report)}`,
          );
          check((await fs.readFile(file)).equals(content), () => `${what}: a corrupt file was changed`);
        }
      } finally {
        await store.close();
      }
      cases++;
    };
    await fs.mkdir(path.join(dir, 'runs'), { recursive: true });
    for (let k = 1; k < line.length; k++) {
      await attempt(Buffer.concat([good, line.subarray(0, k)]), true, `last line cut after ${k} bytes`);
    }
    for (let k = 0; k < line.length - 1; k++) {
      const zeroed = Buffer.concat([
        line.subarray(0, k),
        Buffer.alloc(line.length - 1 - k),
        Buffer.from('\n'),
      ]);
      await attempt(Buffer.concat([good, zeroed]), true, `last line zero-filled from byte ${k}`);
    }
    // Complete lines changed after they were written: damage to an acknowledged event.
    for (const k of [2, Math.floor(line.length / 2), line.length - 3]) {
      const flipped = Buffer.from(line);
      flipped[k] = flipped[k] === 0x41 ? 0x42 : 0x41;
      await attempt(Buffer.concat([good, flipped]), false, `complete last line with byte ${k} changed`);
    }
    return { cases, bytes: line.length };
  });
}

/**
 * Garbage in the middle of one run's file: the run is reported with its file and the first bad line,
 * the file is left byte for byte as it was, and the other runs are read and appended to as usual.
 */
export async function garbageMidFile(): Promise<{ cases: number }> {
  const damages: {
    name: string;
    apply: (lines: Buffer[], m: number) => Buffer[];
    line: (m: number) => number;
  }[] = [
    {
      name: 'random bytes',
      apply: (lines, m) =>
        lines.map((l, i) => (i === m ? Buffer.from('\u0007{"eventId":x\u00ff garbage\n', 'latin1') : l)),
      line: (m) => m + 1,
    },
    {
      name: 'a changed value (checksum mismatch)',
      apply: (lines, m) =>
        lines.map((l, i) =>
          i === m ? Buffer.from(l.toString('utf8').replace('"eventTime":"2', '"eventTime":"3')) : l,
        ),
      line: (m) => m + 1,
    },
    {
      name: 'zero bytes in a middle line',
      apply: (lines, m) =>
        lines.map((l, i) => (i === m ? Buffer.concat([Buffer.alloc(l.length - 1), Buffer.from('\n')]) : l)),
      line: (m) => m + 1,
    },
    { name: 'a line removed', apply: (lines, m) => lines.filter((_, i) => i !== m), line: (m) => m + 1 },
    {
      name: 'a line repeated',
      apply: (lines, m) => [...lines.slice(0, m + 1), lines[m]!, ...lines.slice(m + 1)],
      line: (m) => m + 2,
    },
    {
      name: 'half a line, then the next',
      apply: (lines, m) => lines.map((l, i) => (i === m ? l.subarray(0, Math.floor(l.length / 2)) : l)),
      line: (m) => m + 1,
    },
  ];
  let cases = 0;
  for (const damage of damages) {
    for (const m of [1, 4, 7]) {
      await quietly(async (dir) => {
        const keys = ['a', 'b', 'c'].map((w) => ({ workflowId: w, runId: `${w}-run` }));
        const histories = keys.map((k) => sampleHistory(k.workflowId, k.runId).slice(0, 9));
        const first = await FileHistoryStore.open(dir);
        for (const [i, k] of keys.entries()) await first.append(k, histories[i]!);
        await first.close();
        const file = path.join(dir, 'runs', runFileName(keys[1]!));
        const lines = histories[1]!.map(lineOf);
        const damaged = Buffer.concat(damage.apply(lines, m));
        await fs.writeFile(file, damaged);
        const expectedLine = damage.line(m);
        const what = `${damage.name} at line ${m + 1}`;
        const store = await FileHistoryStore.open(dir);
        try {
          const corrupt = store.openReport().corrupt;
          check(
            corrupt.length === 1 && corrupt[0]!.file === file && corrupt[0]!.line === expectedLine,
            () => `${what}: expected ${file}:${expectedLine} reported, got ${JSON.stringify(corrupt)}`,
          );
          const error = await store.readHistory(keys[1]!).catch((e: unknown) => e);
          check(
            error instanceof HistoryCorruptError && error.message.includes(`${file}:${expectedLine}`),
            () => `${what}: reading the run did not fail with file and line: ${String(error)}`,
          );
          const refused = await store
            .append(keys[1]!, [{ ...histories[1]![8]!, eventId: 10 } as HistoryEvent])
            .then(() => false)
            .catch(() => true);
          check(refused, () => `${what}: an append to the corrupt run was accepted`);
          const listed = await store.listRuns({ workflowId: 'b' });
          check(listed[0]?.status === 'CORRUPT', () => `${what}: the run is listed ${listed[0]?.status}`);
          for (const i of [0, 2]) {
            const key = keys[i]!;
            check(
              canonical(await store.readHistory(key)) === canonical(histories[i]),
              () => `${what}: run ${key.workflowId} changed`,
            );
            const extra = {
              eventId: 10,
              eventTime: histories[i]![0]!.eventTime,
              type: 'WorkflowExecutionCompleted',
              result: 1,
            };
            await store.append(key, [extra as HistoryEvent]);
          }
        } finally {
          await store.close();
        }
        check((await fs.readFile(file)).equals(damaged), () => `${what}: the corrupt file was changed`);
        cases++;
      });
    }
  }
  return { cases };
}

export interface DiskFaultFigures {
  code: 'ENOSPC' | 'EIO';
  acknowledgedBefore: number;
  refusedAfter: number;
  eventsSeen: number;
  tornTailsCut: number;
  runsCompletedAfterRepair: number;
}

/**
 * A running `wf dev` (in this process, over a file system that can fail) whose disk fills up or
 * fails mid-way through a write: from then on it acknowledges nothing that needs a write; after the
 * disk is repaired and the server restarted, every event it acknowledged is there, and every run
 * finishes.
 */
export async function diskFaultUnderServer(code: 'ENOSPC' | 'EIO'): Promise<DiskFaultFigures> {
  const project = await makeProject(tortureProject());
  const ledger = path.join(project, 'ledger.jsonl');
  const faulty = new FaultyFileSystem();
  const quiet = () => undefined;
  const config = await resolveProject({ dir: project, port: await freePort() });
  const figures: DiskFaultFigures = {
    code,
    acknowledgedBefore: 0,
    refusedAfter: 0,
    eventsSeen: 0,
    tornTailsCut: 0,
    runsCompletedAfterRepair: 0,
  };
  const seen = new Map<string, string>();
  const started = new Map<string, string>();
  const signalled = new Set<string>();
  let server = await startDevServer({
    config,
    watch: false,
    reporter: plainReporter(quiet),
    logger: { info: quiet, warn: quiet, error: quiet },
    storeFs: faulty.fs,
  });
  const unsubscribe = server.local.engine.subscribe((notice) => {
    seen.set(`${notice.runId}#${notice.event.eventId}`, canonical(notice.event));
  });
  const steps = 4;
  const start = async (workflowId: string) =>
    api(server.url, 'POST', '/api/v1/workflows', {
      workflowType: 'tortured',
      workflowId,
      args: [ledger, steps, 1],
    });
  try {
    for (let i = 0; i < 12; i++) {
      const answer = await start(`d-${i}`);
      check(answer.status === 201, () => `start before the fault answered ${answer.status}`);
      started.set(`d-${i}`, (answer.body as { runId: string }).runId);
      figures.acknowledgedBefore++;
    }
    await sleep(150); // some activities complete, some are in flight
    for (let i = 0; i < 6; i++) {
      const answer = await api(server.url, 'POST', `/api/v1/workflows/d-${i}/signal/poke`, { args: ['p0'] });
      check(answer.status === 200, () => `signal before the fault answered ${answer.status}`);
      signalled.add(`d-${i}`);
      figures.acknowledgedBefore++;
    }
    // The disk fails, half-way through the next write of every run file.
    faulty.inject({
      call: 'handle.write',
      code,
      partial: true,
      path: (f) => f.includes(`${path.sep}runs${path.sep}`),
    });
    await sleep(300); // activities finish now and their outcomes fail to be written
    const seenAtFault = new Set(seen.keys());
    for (let i = 12; i < 16; i++) {
      const answer = await start(`d-${i}`);
      check(
        answer.status === 503,
        () =>
          `a start after the disk failed answered ${answer.status}, not 503: ${JSON.stringify(answer.body)}`,
      );
      figures.refusedAfter++;
    }
    for (let i = 6; i < 12; i++) {
      const answer = await api(server.url, 'POST', `/api/v1/workflows/d-${i}/signal/poke`, { args: ['p0'] });
      check(
        answer.status === 503,
        () =>
          `a signal after the disk failed answered ${answer.status}, not 503: ${JSON.stringify(answer.body)}`,
      );
      figures.refusedAfter++;
    }
    check(
      [...seen.keys()].every((k) => seenAtFault.has(k)),
      () => 'the server reported new events after its disk failed',
    );
    const listed = await api(server.url, 'GET', '/api/v1/workflows');
    const runs = (listed.body as { runs: { workflowId: string; status: string; paused?: unknown }[] }).runs;
    check(
      runs.some((r) => r.status === 'RUNNING' && r.paused),
      () => `no run is listed as paused after the disk failed: ${JSON.stringify(runs)}`,
    );
  } finally {
    unsubscribe();
    await server.close();
  }
  figures.eventsSeen = seen.size;

  // The disk is repaired; the next wf dev cuts torn tails and finds everything acknowledged.
  faulty.heal();
  const reopened = await FileHistoryStore.open(config.storeDir);
  figures.tornTailsCut = reopened.openReport().truncated.length;
  const byRun = new Map<string, HistoryEvent[]>();
  for (const [workflowId, runId] of started) {
    byRun.set(runId, await reopened.readHistory({ workflowId, runId }));
  }
  await reopened.close();
  for (const [id, text] of seen) {
    const [runId, eventId] = id.split('#') as [string, string];
    const event = byRun.get(runId)?.[Number(eventId) - 1];
    check(
      event && canonical(event) === text,
      () => `${code}: acknowledged event ${id} is missing or changed`,
    );
  }
  for (const workflowId of signalled) {
    const events = byRun.get(started.get(workflowId)!)!;
    check(
      events.some((e) => e.type === 'WorkflowSignaled'),
      () => `${code}: the acknowledged signal to ${workflowId} is missing`,
    );
  }
  server = await startDevServer({
    config,
    watch: false,
    reporter: plainReporter(quiet),
    logger: { info: quiet, warn: quiet, error: quiet },
  });
  try {
    for (const [workflowId, runId] of started) {
      // A refused signal may still have reached the disk whole (half of a two-line write did):
      // not acknowledged is not the same as not recorded. Send it only where it is not.
      const has = byRun.get(runId)!.some((e) => e.type === 'WorkflowSignaled');
      if (!signalled.has(workflowId) && !has) {
        const answer = await api(server.url, 'POST', `/api/v1/workflows/${workflowId}/signal/poke`, {
          args: ['p0'],
        });
        check(
          answer.status === 200,
          () =>
            `${code}: signal to ${workflowId} after the repair answered ${answer.status} ${JSON.stringify(answer.body)}`,
        );
      }
    }
    for (const workflowId of started.keys()) {
      const answer = await api(server.url, 'POST', `/api/v1/workflows/${workflowId}/update/tally`, {
        args: [TALLY],
        updateId: `${workflowId}-u`,
      });
      check(
        answer.status === 200 && (answer.body as { result?: unknown }).result === TALLY,
        () =>
          `${code}: update of ${workflowId} after the repair answered ${answer.status} ${JSON.stringify(answer.body)}`,
      );
    }
    for (const [workflowId, runId] of started) {
      const answer = await api(
        server.url,
        'GET',
        `/api/v1/workflows/${workflowId}/result?runId=${runId}&wait=30000`,
      );
      const outcome = answer.body as { status: string; result?: unknown };
      check(
        outcome.status === 'COMPLETED' && canonical(outcome.result) === canonical(expectedResult(steps, 1)),
        () => `${code}: ${workflowId} ended ${JSON.stringify(outcome)}`,
      );
      figures.runsCompletedAfterRepair++;
    }
  } finally {
    await server.close();
    await fs.rm(project, { recursive: true, force: true });
  }
  return figures;
}

export interface FaultFigures {
  tornTails: { cases: number; bytes: number };
  garbage: { cases: number };
  disk: DiskFaultFigures[];
}

export async function runFaultCases(options: { log: (line: string) => void }): Promise<{
  figures: FaultFigures;
  lines: string[];
}> {
  const t0 = Date.now();
  const tornTails = await tornTailsAtEveryOffset();
  const garbage = await garbageMidFile();
  const disk = [await diskFaultUnderServer('ENOSPC'), await diskFaultUnderServer('EIO')];
  const lines = [
    `torn last line at every offset ${tornTails.cases} cases over a ${tornTails.bytes}-byte line: cut, backed up, appending resumed; changed complete lines reported`,
    `garbage mid-file               ${garbage.cases} cases: reported with file and line, file untouched, other runs served`,
    ...disk.map(
      (d) =>
        `${`${d.code} on append`.padEnd(31)}${d.acknowledgedBefore} requests acknowledged before, ${d.refusedAfter} refused (503) after; ${d.eventsSeen} acknowledged events all kept, ${d.tornTailsCut} torn tails cut, ${d.runsCompletedAfterRepair} runs completed after repair`,
    ),
    `(fault cases took ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  ];
  options.log('fault cases passed');
  return { figures: { tornTails, garbage, disk }, lines };
}
