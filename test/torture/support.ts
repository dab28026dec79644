/** Helpers of the torture suite: the HTTP API over loopback, `wf dev` processes, run files on disk. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const bin = path.join(root, 'bin', 'run.js');

/** A broken promise of wf: the suite stops and reports it. */
export class TortureFailure extends Error {
  override name = 'TortureFailure';
}

export function check(condition: unknown, message: () => string): asserts condition {
  if (!condition) throw new TortureFailure(message());
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A deadline for a race: its timer does not keep the process alive once the race is won. */
export const deadline = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Deterministic pseudo-random numbers (mulberry32), so a failing seed can be run again. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function makeProject(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wf-torture-'));
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  return dir;
}

/** JSON with sorted keys: two events are the same event when these strings are equal. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** The server could not be reached (it is down, or was killed while answering). */
export class Unreachable extends Error {
  override name = 'Unreachable';
}

export interface ApiAnswer {
  status: number;
  body: unknown;
}

/** One request to the HTTP API on loopback. */
export async function api(
  base: string,
  method: 'GET' | 'POST',
  route: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<ApiAnswer> {
  let response: Response;
  try {
    response = await fetch(`${base}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  } catch (error) {
    throw new Unreachable(`${method} ${route}: ${(error as Error).message}`);
  }
}

export interface DevProcess {
  proc: ChildProcess;
  pid: number;
  url: string;
  exited: Promise<number | null>;
  /** The last lines it printed. */
  tail(): string;
}

/** Starts `wf dev` (the built binary) and waits until it serves, or until it exits. */
export async function startDev(
  project: string,
  port: number,
  options: { expectExit?: boolean } = {},
): Promise<DevProcess> {
  const proc = spawn(
    process.execPath,
    [bin, 'dev', '--project', project, '--port', String(port), '--no-watch', '--plain'],
    { cwd: project, env: { ...process.env, NO_COLOR: '1', CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  let partial = '';
  let ready: (() => void) | undefined;
  const readyPromise = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const onData = (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (lines.length > 400) lines.shift();
      if (line.startsWith('Press Ctrl+C to stop')) ready?.();
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const dev: DevProcess = {
    proc,
    pid: proc.pid!,
    url: `http://127.0.0.1:${port}`,
    exited,
    tail: () => [...lines, partial].join('\n'),
  };
  if (options.expectExit) {
    if ((await Promise.race([exited.then(() => 'exited'), deadline(30_000)])) !== 'exited') {
      proc.kill('SIGKILL');
      throw new TortureFailure(`wf dev was expected to exit, and it kept running:\n${dev.tail()}`);
    }
    return dev;
  }
  const outcome = await Promise.race([
    readyPromise.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    deadline(60_000).then(() => 'slow' as const),
  ]);
  if (outcome !== 'ready') {
    proc.kill('SIGKILL');
    throw new TortureFailure(`wf dev did not start (${outcome}):\n${dev.tail()}`);
  }
  return dev;
}

export interface DurableEvent {
  eventId: number;
  type: string;
  seq?: number;
  activityId?: string;
  workflowId?: string;
  runId?: string;
  [key: string]: unknown;
}

/** The events of every run file, read straight from disk (the torn last line, if any, left out). */
export async function readStoreFiles(storeDir: string): Promise<Map<string, DurableEvent[]>> {
  const runsDir = path.join(storeDir, 'runs');
  const out = new Map<string, DurableEvent[]>();
  if (!existsSync(runsDir)) return out;
  for (const name of await readdir(runsDir)) {
    if (!name.endsWith('.jsonl')) continue;
    const text = await readFile(path.join(runsDir, name), 'utf8');
    const events: DurableEvent[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        events.push(JSON.parse(line) as DurableEvent);
      } catch {
        break; // a torn last line
      }
    }
    const first = events[0];
    if (first?.runId) out.set(first.runId, events);
  }
  return out;
}

/** Idempotency keys (`workflowId/runId/activityId`) of the activities whose completion is in `events`. */
export function completedActivityKeys(workflowId: string, runId: string, events: DurableEvent[]): string[] {
  const ids = new Map<number, string>();
  const keys: string[] = [];
  for (const e of events) {
    if (e.type === 'ActivityTaskScheduled' && e.seq !== undefined) ids.set(e.seq, String(e.activityId));
    if (e.type === 'ActivityTaskCompleted' && e.seq !== undefined && ids.has(e.seq)) {
      keys.push(`${workflowId}/${runId}/${ids.get(e.seq)}`);
    }
  }
  return keys;
}
