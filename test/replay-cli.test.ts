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
      const result = await wf(
        project,
        'replay',
        'o-1.jsonl',
        '--reporter',
        'text',
        '--reporter',
        'github',
        '--reporter',
        'junit',
        '--output-file',
        'reports/replay.xml',
      );
      expect(result.code).toBe(1);
      // GitHub annotations: an error on the line that issued the diverging command, a notice on the recorded one.
      const changed = (await readFile(workflows, 'utf8')).split('\n');
      const issuedLine = changed.findIndex((l) => /^\s+await validatePayment\(order\);$/.test(l)) + 1;
      // The recorded event's line is where the code stood when the history was recorded.
      const recordedLine = original.split('\n').findIndex((l) => l.includes('await shipOrder(')) + 1;
      const error = result.stdout.split('\n').find((l) => l.startsWith('::error '));
      expect(error).toMatch(
        new RegExp(
          `^::error file=src/workflows/index\\.ts,line=${issuedLine},col=\\d+,title=wf replay%3A orderWorkflow no longer replays o-1\\.jsonl::.*%0A`,
        ),
      );
      expect(error).not.toMatch(/\r|\n/);
      expect(result.stdout).toMatch(
        new RegExp(
          `^::notice file=src/workflows/index\\.ts,line=${recordedLine},col=\\d+,title=wf replay%3A o-1\\.jsonl recorded this::`,
          'm',
        ),
      );
      // JUnit: one testcase per history, the divergence as a failure.
      const xml = await readFile(join(project, 'reports', 'replay.xml'), 'utf8');
      expect(xml).toMatch(/<testsuite name="wf replay" tests="1" failures="1" errors="0"/);
      expect(xml).toMatch(
        /<testcase classname="orderWorkflow" name="o-1\.jsonl" file="o-1\.jsonl" time="[\d.]+">\s*<failure type="NonDeterminismError" message="[^"]+">/,
      );
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

  it('exits 2 for unreadable histories, naming file and line, and still replays and reports the others', async () => {
    const good = await readFile(join(project, 'o-1.jsonl'), 'utf8');
    const lines = good.trim().split('\n');
    await mkdir(join(project, 'ci'), { recursive: true });
    await writeFile(join(project, 'ci', 'a-good.jsonl'), good);
    // Cut inside the third line, as an interrupted copy leaves it.
    await writeFile(
      join(project, 'ci', 'b-truncated.jsonl'),
      `${lines.slice(0, 2).join('\n')}\n${lines[2]!.slice(0, 30)}`,
    );
    await writeFile(
      join(project, 'ci', 'c-future.jsonl'),
      `${lines[0]!.replace('"formatVersion":1', '"formatVersion":99').replace(/,"crc":"[0-9a-f]+"\}$/, '}')}\n`,
    );
    await writeFile(
      join(project, 'ci', 'd-not-json.jsonl'),
      '{"eventId":1,"type":"WorkflowExecutionStarted"\n',
    );
    const result = await wf(project, 'replay', 'ci');
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/^ok {3}ci\/a-good\.jsonl \(orderWorkflow, \d+ events\)$/m);
    expect(result.stdout).toMatch(/^ERR {2}ci\/b-truncated\.jsonl/m);
    expect(result.stdout).toMatch(/ci\/b-truncated\.jsonl:3: /);
    expect(result.stdout).toMatch(/ci\/c-future\.jsonl:1: .*format version 99/);
    expect(result.stdout).toMatch(/ci\/d-not-json\.jsonl:1: .*not valid JSON/);
    expect(result.stdout).toMatch(/^1 of 4 histories replayed .*; 3 cannot be read \(exit 2\)$/m);
    expect((await wf(project, 'replay', '--help')).stdout).toMatch(
      /Exit codes: 0 every history replayed; 1 the code/,
    );
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
