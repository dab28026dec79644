import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'run.js');
const built = existsSync(join(root, 'dist', 'commands', 'index.js'));
const env = { ...process.env, NO_COLOR: '1', NODE_ENV: 'production' };

const WORKFLOW = `import { condition, defineSignal, proxyActivities, setHandler } from 'wfkit/workflow';
import type * as activities from '../activities/index.js';
const { a, b } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });
export const go = defineSignal('go');
export async function flow(): Promise<string> {
  let ok = false;
  setHandler(go, () => {
    ok = true;
  });
  const x = await a('1');
  await condition(() => ok);
  return x;
}
`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function wf(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function until<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  what: string,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!built)('wf dev hot reload (needs `npm run build`)', () => {
  let dir: string;
  let dev: ChildProcess | undefined;
  afterEach(async () => {
    dev?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('pauses a run the changed code cannot replay, and resumes it once the change is undone', async () => {
    dir = await mkdtemp(join(tmpdir(), 'wf-hot-'));
    await mkdir(join(dir, 'src', 'workflows'), { recursive: true });
    await mkdir(join(dir, 'src', 'activities'), { recursive: true });
    await writeFile(
      join(dir, 'src', 'activities', 'index.ts'),
      "export async function a(x: string) { return 'a:' + x; }\nexport async function b(x: string) { return 'b:' + x; }\n",
    );
    const workflowFile = join(dir, 'src', 'workflows', 'index.ts');
    await writeFile(workflowFile, WORKFLOW);
    const port = await freePort();
    const address = `http://127.0.0.1:${port}`;
    let output = '';
    dev = spawn(process.execPath, [bin, 'dev', '--project', dir, '--port', String(port)], { env });
    dev.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await until(() => output.includes('watching:'), 'the dev server');

    expect((await wf('start', '--type', 'flow', '-w', 'f1', '--address', address)).code).toBe(0);
    await until(() => output.includes('ActivityTaskCompleted'), 'the first activity');

    await writeFile(
      workflowFile,
      WORKFLOW.replace("const x = await a('1');", "await b('0');\n  const x = await a('1');"),
    );
    await until(() => output.includes('paused: f1'), 'the run to pause');
    // The dev output points at the line of the new code that no longer replays the history.
    await until(() => output.includes('f1 no longer replays at src/workflows/index.ts:10'), 'the code frame');
    expect(output).toMatch(/> 10 \| {3}await b\('0'\);/);
    const described = await wf('describe', '-w', 'f1', '--address', address, '-o', 'json');
    const paused = JSON.parse(described.stdout).paused.reason as string;
    expect(paused).toContain(
      'history recorded: ActivityTaskScheduled a (seq 1) at src/workflows/index.ts:10',
    );
    expect(paused).toContain(
      'code issued:      ActivityTaskScheduled b (seq 1) at src/workflows/index.ts:10',
    );

    await writeFile(workflowFile, WORKFLOW);
    await until(() => output.match(/reloaded in/g)?.length === 2, 'the fix');
    expect((await wf('signal', '-w', 'f1', '--name', 'go', '--address', address)).code).toBe(0);
    const result = await wf('result', '-w', 'f1', '--address', address);
    expect(result.stdout.trim()).toBe('a:1');
    expect(await readFile(workflowFile, 'utf8')).toBe(WORKFLOW);
  });

  it('pauses a run when a step is added exactly where it waits, naming the line, instead of running it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'wf-hot-'));
    await mkdir(join(dir, 'src', 'workflows'), { recursive: true });
    await mkdir(join(dir, 'src', 'activities'), { recursive: true });
    await writeFile(
      join(dir, 'src', 'activities', 'index.ts'),
      "export async function a(x: string) { return 'a:' + x; }\nexport async function b(x: string) { return 'b:' + x; }\n",
    );
    const workflowFile = join(dir, 'src', 'workflows', 'index.ts');
    await writeFile(workflowFile, WORKFLOW);
    const port = await freePort();
    const address = `http://127.0.0.1:${port}`;
    let output = '';
    dev = spawn(process.execPath, [bin, 'dev', '--project', dir, '--port', String(port)], { env });
    dev.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await until(() => output.includes('watching:'), 'the dev server');
    expect((await wf('start', '--type', 'flow', '-w', 'f2', '--address', address)).code).toBe(0);
    await until(() => output.includes('ActivityTaskCompleted'), 'the first activity');

    // The run waits in condition() after a('1'): its history ends there, having issued nothing more.
    await writeFile(
      workflowFile,
      WORKFLOW.replace("const x = await a('1');", "const x = await a('1');\n  await b('2');"),
    );
    await until(() => output.includes('paused: f2'), 'the run to pause');
    await until(() => output.includes('f2 no longer replays at src/workflows/index.ts:11'), 'the code frame');
    const history = await wf('show', '-w', 'f2', '--address', address);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/ActivityTaskScheduled\s+a\b/);
    expect(history.stdout).not.toMatch(/ActivityTaskScheduled\s+b\b/);

    await writeFile(workflowFile, WORKFLOW);
    await until(() => output.match(/reloaded in/g)?.length === 2, 'the fix');
    expect((await wf('signal', '-w', 'f2', '--name', 'go', '--address', address)).code).toBe(0);
    expect((await wf('result', '-w', 'f2', '--address', address)).stdout.trim()).toBe('a:1');
  });
});
