// A `wf` child process for the cases that drive the real binary (`wf dev`, `wf serve`): spawned on a
// free port, its output kept with the time each line appeared, waited on until it answers or prints a
// line, and stopped with SIGTERM (SIGKILL when it does not exit in time).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { now, ROOT } from './lib.js';

/** The `wf` binary of this checkout (run it with `process.execPath`). */
export const BIN = join(ROOT, 'bin', 'run.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `wf <args> --port <a free port>` in `cwd`. Every chunk of its stdout and stderr is counted;
 * the first `keepOutput` characters are kept for error messages, and the first `keepLines` lines with
 * the ms from the spawn until each appeared (a start-up report; the log of the runs that follows is
 * drained and dropped).
 */
export async function spawnWf({
  args,
  cwd,
  env = {},
  name = `wf ${args[0]}`,
  keepLines = 40,
  keepOutput = 50_000,
  killAfterMs = 30_000,
}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const spawnedAt = now();
  const child = spawn(
    process.execPath,
    [
      ...(process.env.WF_BENCH_CHILD_FLAGS ?? '').split(/\s+/).filter(Boolean),
      BIN,
      ...args,
      '--port',
      String(port),
    ],
    {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    },
  );
  let output = '';
  let outputBytes = 0;
  let partial = '';
  const lineTimes = [];
  const onData = (chunk) => {
    outputBytes += chunk.length;
    const text = chunk.toString('utf8');
    if (output.length < keepOutput) output += text;
    if (lineTimes.length >= keepLines) return;
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines)
      if (lineTimes.length < keepLines) lineTimes.push({ line, ms: now() - spawnedAt });
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  let exitCode;
  let gone = false;
  void exited.then((code) => {
    gone = true;
    exitCode = code;
  });

  return {
    name,
    url,
    pid: child.pid,
    output: () => output,
    /** Bytes it has written to stdout and stderr so far. */
    outputBytes: () => outputBytes,
    /** ms from the spawn until `GET /api/v1/health` first answered 200 (polled every 5 ms). */
    async healthy(timeoutMs = 300_000) {
      for (;;) {
        if (gone) throw new Error(`${name} exited (${exitCode}) before it answered:\n${output}`);
        try {
          const res = await fetch(`${url}/api/v1/health`);
          if (res.status === 200) return now() - spawnedAt;
        } catch {
          // not listening yet
        }
        if (now() - spawnedAt > timeoutMs)
          throw new Error(`${name} did not answer in ${timeoutMs} ms:\n${output}`);
        await sleep(5);
      }
    },
    /** The first kept line matching `pattern` and the ms from the spawn until it was printed. */
    async line(pattern, timeoutMs = 300_000) {
      for (;;) {
        const hit = lineTimes.find((l) => pattern.test(l.line));
        if (hit) return hit;
        if (gone) throw new Error(`${name} exited (${exitCode}) before printing ${pattern}:\n${output}`);
        if (now() - spawnedAt > timeoutMs) {
          throw new Error(`${name}: no ${pattern} in ${timeoutMs} ms:\n${output}`);
        }
        await sleep(2);
      }
    },
    /** SIGTERM, then SIGKILL after `killAfterMs`; resolves to the exit code (or signal). */
    async stop() {
      if (!gone) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}
