import { readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashProject } from './fixtures.js';
import {
  built,
  type DevServer,
  freePort,
  jsonLines,
  killAll,
  listTree,
  makeProject,
  rawRequest,
  removeTempDirs,
  spawnDev,
  wf,
} from './support.js';

describe.skipIf(!built)('acceptance: bad input to the CLI and the HTTP API (needs a build)', () => {
  let project: string;
  let dev: DevServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    project = await makeProject(crashProject());
    dev = await spawnDev(project);
    env = { WF_ADDRESS: dev.url };
    // A healthy run that every refusal below must leave alone.
    const healthy = await wf(['start', '--type', 'waiting', '-w', 'healthy'], env);
    expect(healthy.code).toBe(0);
  });
  afterAll(async () => {
    // The healthy run is still there and still works.
    const signal = await wf(['signal', '-w', 'healthy', '--name', 'go'], env);
    expect(signal.code).toBe(0);
    expect((await wf(['result', '-w', 'healthy', '-o', 'json'], env)).stdout).toBe('"released"\n');
    await killAll();
    await removeTempDirs();
  });

  it('malformed --input is exit 2 with the parser message; an unknown type is exit 2 naming the known ones', async () => {
    const [malformed, unknown, badSignalInput] = await Promise.all([
      wf(['start', '--type', 'quick', '-w', 'bad-json', '--input', '{"orderId": '], env),
      wf(['start', '--type', 'nope', '-w', 'bad-type'], env),
      wf(['signal', '-w', 'healthy', '--name', 'go', '--input', "{'single': 1}"], env),
    ]);
    expect(malformed.code).toBe(2);
    expect(malformed.stdout).toBe('');
    expect(malformed.stderr).toMatch(/^Error: --input is not valid JSON: .+/);
    expect(malformed.stderr).toMatch(/Unexpected end of JSON input|JSON/);
    expect(badSignalInput.code).toBe(2);
    expect(badSignalInput.stderr).toMatch(/^Error: --input is not valid JSON: /);

    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^Error: unknown workflow type "nope": the workflows module exports /);
    for (const type of ['approval', 'quick', 'signalFlow', 'steps', 'timerFlow', 'waiting']) {
      expect(unknown.stderr).toContain(`"${type}"`);
    }
    // Nothing was started.
    const list = jsonLines<{ workflowId: string }>((await wf(['list', '-o', 'json'], env)).stdout);
    expect(list.map((r) => r.workflowId)).toEqual(['healthy']);
  });

  it('a foreign Host header gets a 403 JSON error; so does a foreign Origin', async () => {
    const host = await rawRequest(dev.url, {
      path: '/api/v1/workflows',
      headers: { host: 'evil.example.com' },
    });
    expect(host.status).toBe(403);
    expect(host.body).toMatchObject({
      error: { code: 'FORBIDDEN', message: expect.stringContaining('Host') },
    });
    const hostWithPort = await rawRequest(dev.url, {
      method: 'POST',
      path: '/api/v1/workflows',
      headers: { host: `evil.example.com:${dev.port}` },
      body: JSON.stringify({ workflowType: 'quick', workflowId: 'evil', args: ['x'] }),
    });
    expect(hostWithPort.status).toBe(403);
    const origin = await rawRequest(dev.url, {
      method: 'POST',
      path: '/api/v1/workflows',
      headers: { host: `127.0.0.1:${dev.port}`, origin: 'https://evil.example.com' },
      body: JSON.stringify({ workflowType: 'quick', workflowId: 'evil', args: ['x'] }),
    });
    expect(origin.status).toBe(403);
    expect(origin.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const ok = await rawRequest(dev.url, {
      path: '/api/v1/health',
      headers: { host: `localhost:${dev.port}` },
    });
    expect(ok).toEqual({ status: 200, body: { status: 'ok' } });
    const list = await rawRequest(dev.url, { path: '/api/v1/workflows?workflowId=evil' });
    expect(list.body).toEqual({ runs: [] });
  });

  it('path-traversal, slash and NUL workflow IDs stay inside .wf/', async () => {
    const before = await listTree(project);
    const outside = await readdir(os.tmpdir());
    const ids = ['../../etc/passwd', '../../../../../../tmp/wf-acc-escape', 'a/b/../../c', '..', '.'];
    const started = await Promise.all(
      ids.map((id) =>
        wf(['start', '--type', 'quick', '-w', id, '--input', JSON.stringify(id), '-o', 'json'], env),
      ),
    );
    for (const [i, s] of started.entries()) {
      expect(s, ids[i]).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(s.stdout).workflowId).toBe(ids[i]);
    }
    const results = await Promise.all(ids.map((id) => wf(['result', '-w', id, '-o', 'json'], env)));
    expect(results.map((r) => JSON.parse(r.stdout))).toEqual(ids.map((id) => `quick:${id}`));

    // NUL cannot travel in argv; send it over HTTP. It is rejected (400) or stored safely.
    const nul = await rawRequest(dev.url, {
      method: 'POST',
      path: '/api/v1/workflows',
      body: JSON.stringify({ workflowType: 'quick', workflowId: 'nul\u0000/../x', args: ['n'] }),
    });
    expect([201, 400]).toContain(nul.status);
    if (nul.status === 201) {
      const res = await rawRequest(dev.url, {
        path: `/api/v1/workflows/${encodeURIComponent('nul\u0000/../x')}/result`,
      });
      expect(res.body).toEqual({ status: 'COMPLETED', result: 'quick:n' });
    }

    const after = await listTree(project);
    const added = after.filter((f) => !before.includes(f));
    expect(added.length).toBeGreaterThanOrEqual(ids.length);
    for (const file of added) {
      expect(file.startsWith(`.wf${path.sep}`), file).toBe(true);
    }
    // Each run is one file directly in .wf/runs, named from a sanitized prefix and a hash.
    for (const file of added.filter((f) => f.startsWith(path.join('.wf', 'runs')))) {
      expect(path.basename(file)).toMatch(/^[a-z0-9_-]*_[0-9a-f]{32}\.jsonl$/);
      expect(path.dirname(file)).toBe(path.join('.wf', 'runs'));
    }
    expect(await readdir(os.tmpdir())).not.toContain('wf-acc-escape');
    expect(outside).not.toContain('wf-acc-escape');

    const list = jsonLines<{ workflowId: string; status: string }>(
      (await wf(['list', '-o', 'json'], env)).stdout,
    );
    for (const id of ids) expect(list.find((r) => r.workflowId === id)?.status, id).toBe('COMPLETED');
  });

  it('wf dev refused at start (bad OTEL_* settings, bad workflow code) exits with the error instead of hanging', async () => {
    const other = await makeProject(crashProject());
    const otel = await spawnDev(other, {
      expectExit: true,
      env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc-please', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' },
    });
    expect(await otel.exited).toBe(2);
    expect(otel.output()).toContain('OTLP protocol "grpc-please" is not supported');
    await writeFile(path.join(other, 'src', 'workflows', 'index.ts'), 'export const broken = ;\n');
    const broken = await spawnDev(other, { expectExit: true });
    expect(await broken.exited).toBe(2);
    expect(broken.output()).toContain('Cannot bundle the workflows');
  });

  it('a client command with no dev server says so and exits 1', async () => {
    const port = await freePort();
    const res = await wf(['start', '--type', 'quick', '-w', 'x', '--input', '"1"'], {
      WF_ADDRESS: `http://127.0.0.1:${port}`,
    });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toBe(
      `Error: no wf dev server at http://127.0.0.1:${port}: start one with \`wf dev\`\n`,
    );
  });

  // IDs and names are user data (an order ID from a web form): printed raw, ESC sequences in them
  // could rewrite the user's terminal (title, colours, clear screen) and a newline forge a line.
  const hostile = 'evil\u001b]0;pwned\u0007\u001b[2J\nfake line';

  it("wf dev's terminal shows control characters in IDs escaped", async () => {
    const started = await rawRequest(dev.url, {
      method: 'POST',
      path: '/api/v1/workflows',
      body: JSON.stringify({ workflowType: 'quick', workflowId: hostile, args: ['h'] }),
    });
    expect(started.status).toBe(201);
    await dev.waitFor(/WorkflowExecutionCompleted/);
    const line = await dev.waitFor(/evil.*#\d+ WorkflowExecutionCompleted/);
    expect(line).toContain('evil\\u001b]0;pwned\\u0007\\u001b[2J\\nfake line');
    expect(dev.output().includes('\u001b')).toBe(false);
    expect(dev.output()).not.toMatch(/^fake line/m);
  });

  // `wf list`, `wf describe` and `wf show` print workflow IDs (and names, messages) with their control
  // characters escaped, so an ID cannot clear the screen or set the terminal title of whoever lists runs.
  it('wf list and wf describe show control characters in IDs escaped', async () => {
    const [list, describeOut] = await Promise.all([
      wf(['list'], env),
      wf(['describe', '-w', hostile.replace('\n', '')], env),
    ]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('evil');
    expect(list.stdout.includes('\u001b')).toBe(false);
    expect(describeOut.stdout.includes('\u001b')).toBe(false);
  });
});
