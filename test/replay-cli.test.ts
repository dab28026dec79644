import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'run.js');
const built = existsSync(join(root, 'dist', 'commands', 'index.js'));

function wf(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd, env: { ...process.env, NO_COLOR: '1', NODE_ENV: 'production' } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const order = JSON.stringify({
  orderId: 'o-1',
  amount: 100,
  items: [{ sku: 'A', qty: 1 }],
  email: 'a@example.com',
});

describe.skipIf(!built)('wf run and wf replay on the order saga (needs `npm run build`)', () => {
  let project: string;
  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'wf-replay-'));
    await cp(join(root, 'examples', 'order-saga', 'src'), join(project, 'src'), { recursive: true });
  });
  afterAll(() => rm(project, { recursive: true, force: true }));

  it('runs the saga in-process, then replays its history from the store and from an exported file', async () => {
    const run = await wf(
      project,
      'run',
      'orderWorkflow',
      '--input',
      order,
      '--workflow-id',
      'o-1',
      '--timeline',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"trackingNumber": "TRK-o-1"');
    expect(run.stdout).toMatch(/ActivityTaskScheduled\s+shipOrder/);

    const fromStore = await wf(project, 'replay', '--from-store', '.wf');
    expect(fromStore.code).toBe(0);
    expect(fromStore.stdout).toContain('1 of 1 histories replayed');

    const runFile = (await readdir(join(project, '.wf', 'runs')))[0]!;
    const lines = (await readFile(join(project, '.wf', 'runs', runFile), 'utf8')).trim().split('\n');
    await writeFile(join(project, 'o-1.jsonl'), `${lines.join('\n')}\n`);
    expect((await wf(project, 'replay', 'o-1.jsonl')).code).toBe(0);
  });

  it('fails with the diverging event and both source lines when the code changed', async () => {
    const workflows = join(project, 'src', 'workflows', 'index.ts');
    const original = await readFile(workflows, 'utf8');
    await writeFile(
      workflows,
      original.replace(
        'const reservation = await reserveInventory(order);',
        'const reservation = await reserveInventory(order);\n    await validatePayment(order);',
      ),
    );
    try {
      const result = await wf(project, 'replay', 'o-1.jsonl');
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('FAIL o-1.jsonl (orderWorkflow');
      expect(result.stdout).toMatch(
        /history recorded: ActivityTaskScheduled shipOrder \(seq 3\) at src\/workflows\/index\.ts:\d+/,
      );
      expect(result.stdout).toMatch(
        /code issued: +ActivityTaskScheduled validatePayment \(seq 3\) at src\/workflows\/index\.ts:\d+/,
      );
      expect(result.stdout).toContain('patched(');
      // ...and shows the line of the current code that issued it.
      expect(result.stdout).toMatch(/the code now, at src\/workflows\/index\.ts:\d+:/);
      expect(result.stdout).toMatch(/> +\d+ \| +await validatePayment\(order\);/);
    } finally {
      await writeFile(workflows, original);
    }
  });

  it('reports an unreadable history file with its line', async () => {
    await writeFile(join(project, 'broken.jsonl'), '{"eventId":1,"type":"WorkflowExecutionStarted"\n');
    const result = await wf(project, 'replay', 'broken.jsonl');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/broken\.jsonl:1/);
  });

  it('exits 2 when a directory holds no histories, or a store does not exist: replaying nothing proves nothing', async () => {
    await mkdir(join(project, 'empty'), { recursive: true });
    const empty = await wf(project, 'replay', 'empty');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('no histories found');
    expect((await wf(project, 'replay', 'empty', '--allow-empty')).code).toBe(0);
    const noStore = await wf(project, 'replay', '--from-store', 'no-such-store');
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toContain('is not a wf store');
  });

  it('exits 2 when given nothing to replay', async () => {
    const result = await wf(project, 'replay');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('nothing to replay');
  });
});
