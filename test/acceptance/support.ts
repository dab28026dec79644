/**
 * Helpers of the acceptance tests: they drive the REAL built binary (`node bin/run.js`, so run
 * `npx tsc -p tsconfig.build.json` first) against throwaway projects in the OS temp directory.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const bin = path.join(root, 'bin', 'run.js');
/** The acceptance tests need a build: `npx tsc -p tsconfig.build.json`. */
export const built = existsSync(path.join(root, 'dist', 'commands', 'index.js'));

const baseEnv = { ...process.env, NO_COLOR: '1', NODE_ENV: 'production', FORCE_COLOR: '0' };
delete (baseEnv as Record<string, string | undefined>).WF_ADDRESS;

/** A free TCP port on loopback: listen on 0, read it, close. */
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

const tempDirs: string[] = [];

/** A throwaway project: `files` maps relative paths to contents. */
export async function makeProject(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wf-acc-'));
  tempDirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  return dir;
}

/** A throwaway copy of examples/order-saga's sources. */
export async function copyOrderSaga(): Promise<string> {
  const dir = await makeProject({});
  await cp(path.join(root, 'examples', 'order-saga', 'src'), path.join(dir, 'src'), { recursive: true });
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
}

export interface WfResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `wf ARGS` to its end (asynchronously: a dev server may be running in another process). */
export function wf(args: string[], env: Record<string, string> = {}, cwd = root): Promise<WfResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd, env: { ...baseEnv, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        if (process.env.WF_ACC_TIMING) console.log(`wf ${args.join(' ')}: ${Date.now() - t0} ms`);
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export interface DevServer {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Everything printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with the first output line matching `pattern` (already printed or to come). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

const live = new Set<DevServer>();

export interface SpawnDevOptions {
  port?: number;
  args?: string[];
  /** Don't wait for "listening on": the caller expects the process to fail. */
  expectExit?: boolean;
  /** Called with each output line as it arrives (to SIGKILL at an exact point). */
  onLine?: (line: string, server: DevServer) => void;
  /** The command to run instead of `dev` (e.g. `serve`), and the output line that says it is ready. */
  command?: string;
  ready?: RegExp;
  env?: Record<string, string>;
}

/** Starts `wf dev --project PROJECT --port P` and waits for its "listening on" line. */
export async function spawnDev(project: string, opts: SpawnDevOptions = {}): Promise<DevServer> {
  const port = opts.port ?? (await freePort());
  const proc = spawn(
    process.execPath,
    [bin, opts.command ?? 'dev', '--project', project, '--port', String(port), ...(opts.args ?? [])],
    {
      cwd: project,
      env: { ...baseEnv, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let text = '';
  let partial = '';
  const watchers: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const server: DevServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs = 20_000) {
      const hit = text.split('\n').find((l) => pattern.test(l));
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${pattern} in wf dev output:\n${text}`)),
          timeoutMs,
        );
        const watcher = {
          pattern,
          resolve: (line: string) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        watchers.push(watcher);
        void exited.then(() => {
          setTimeout(() => {
            if (watchers.includes(watcher)) {
              clearTimeout(timer);
              reject(new Error(`wf dev exited before printing ${pattern}:\n${text}`));
            }
          }, 50);
        });
      });
    },
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const code = await exited;
      live.delete(server);
      return code;
    },
  };
  const onData = (chunk: Buffer) => {
    const s = chunk.toString('utf8');
    text += s;
    partial += s;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      opts.onLine?.(line, server);
      for (const w of [...watchers]) {
        if (w.pattern.test(line)) {
          watchers.splice(watchers.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  live.add(server);
  void exited.then(() => live.delete(server));
  // The start-up report (recovery, warnings) is printed between these two lines.
  if (!opts.expectExit) await server.waitFor(opts.ready ?? /^Press Ctrl\+C to stop/);
  return server;
}

/** Kills every dev server still running (afterEach). */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((s) => s.kill('SIGKILL')));
}

/** A raw HTTP request to a dev server, with any headers (node:http, so Host can be forged). */
export function rawRequest(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: {
          'content-type': 'application/json',
          ...(options.body !== undefined
            ? { 'content-length': String(Buffer.byteLength(options.body)) }
            : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** The run files of a store, with their events (read straight from disk, e.g. after a kill -9). */
export async function readRunFiles(
  storeDir: string,
): Promise<Map<string, { file: string; lines: string[] }>> {
  const runsDir = path.join(storeDir, 'runs');
  const out = new Map<string, { file: string; lines: string[] }>();
  for (const name of await readdir(runsDir)) {
    if (!name.endsWith('.jsonl')) continue;
    const file = path.join(runsDir, name);
    const text = await readFile(file, 'utf8');
    const lines = text.split('\n').filter((l) => l !== '');
    const first = JSON.parse(lines[0]!) as { workflowId: string };
    out.set(first.workflowId, { file, lines });
  }
  return out;
}

/** Parses JSON Lines output (`wf show -o json`, `wf list -o json`). */
export function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** Every file under `dir` (relative paths), for "nothing was written outside .wf/" checks. */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      out.push(path.relative(dir, p));
      if (entry.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out.sort();
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `fn` until it returns a truthy value. */
export async function until<T>(fn: () => Promise<T> | T, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
