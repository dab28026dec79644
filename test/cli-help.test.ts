import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = existsSync(`${root}/dist/commands/index.js`);
const COMMANDS = [
  'start',
  'execute',
  'signal',
  'query',
  'update',
  'cancel',
  'terminate',
  'list',
  'describe',
  'show',
  'result',
];

function wf(...args: string[]) {
  return wfIn('production', ...args);
}

function wfIn(nodeEnv: string, ...args: string[]) {
  return spawnSync(process.execPath, [`${root}/bin/run.js`, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', NODE_ENV: nodeEnv },
  });
}

if (!built) {
  console.warn(
    'test/cli-help.test.ts: dist/ is missing, skipping CLI help tests. Run `npm run build` first.',
  );
}

describe.skipIf(!built)('wf --help (needs `npm run build`)', () => {
  it('runs its compiled commands quietly under NODE_ENV=development (no TypeScript source lookup)', () => {
    const res = wfIn('development', '--help');
    expect(res.status).toBe(0);
    expect(res.stderr).not.toMatch(/Warning|tsconfig/);
    expect(res.stdout).toContain('dev');
  });

  it('lists every command with its summary', () => {
    const res = wf('--help');
    expect(res.status).toBe(0);
    for (const id of COMMANDS) expect(res.stdout, id).toMatch(new RegExp(`^\\s+${id}\\s+\\S`, 'm'));
  });

  it('lists the time and timer topics, and their commands have help with examples', () => {
    const res = wf('--help');
    expect(res.stdout).toMatch(/^\s+time\s+The dev server's clock/m);
    expect(res.stdout).toMatch(/^\s+timer\s+A workflow's pending timers/m);
    for (const id of [['time', 'skip'], ['timer', 'fire'], ['time']]) {
      const help = wf(...id, '--help');
      expect(help.status, id.join(' ')).toBe(0);
      expect(help.stdout, id.join(' ')).toContain('--address');
      expect(help.stdout, id.join(' ')).toContain('EXAMPLES');
    }
  });

  it('shows flags and examples for each command', () => {
    for (const id of COMMANDS) {
      const res = wf(id, '--help');
      expect(res.status, id).toBe(0);
      expect(res.stdout, id).toContain('--address');
      expect(res.stdout, id).toContain('EXAMPLES');
    }
  });

  it('exits 2 with a usage message when a required flag is missing', () => {
    const res = wf('start', '--type', 'greet');
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/workflow-id/);
  });

  it('exits 2 for malformed --input JSON, without a stack trace', () => {
    const res = wf(
      'start',
      '--type',
      'greet',
      '--workflow-id',
      'g',
      '--input',
      '{oops',
      '--address',
      'http://127.0.0.1:9',
    );
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/^Error: --input is not valid JSON: .+/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 1 with a hint when no dev server is running', () => {
    const res = wf('list', '--address', 'http://127.0.0.1:9');
    expect(res.status).toBe(1);
    expect(res.stderr.trim()).toBe('Error: no wf dev server at http://127.0.0.1:9: start one with `wf dev`');
  });
});
