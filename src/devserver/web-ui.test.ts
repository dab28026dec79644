import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeWorkflowService } from '../../test/support/fake-service.js';
import type { RunDescription } from '../protocol/service.js';
import { type HttpServer, startHttpServer } from './http-server.js';
import { callSitesOf, sourceFrames } from './source-frames.js';
import { createWebUi } from './web-ui.js';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function raw(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the web UI served by the HTTP API', () => {
  let dir: string;
  let server: HttpServer;
  let guarded: HttpServer;
  const js = 'console.log("wf ui");\n'.repeat(50);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wf-webui-'));
    await writeFile(join(dir, 'app.js'), js);
    await writeFile(join(dir, 'app.css'), 'body{color:red}\n');
    server = await startHttpServer({
      service: new FakeWorkflowService(),
      port: 0,
      webUi: createWebUi(dir),
      workflowTypes: () => ['orderWorkflow', 'shipping'],
    });
    guarded = await startHttpServer({
      service: new FakeWorkflowService(),
      port: 0,
      webUi: createWebUi(dir),
      apiToken: 'a-token-of-sixteen-chars',
    });
  });

  afterAll(async () => {
    await server.close();
    await guarded.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the HTML shell at / and at deep links, with a CSP that forbids inline scripts', async () => {
    for (const path of ['/', '/runs/order%2F1/run-1', '/runs?workflowId=..', '/schedules']) {
      const res = await raw(server.port, path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      const html = res.body.toString();
      // Every script has a src: nothing inline for the policy to refuse.
      expect(html.match(/<script\b[^>]*>/g)?.every((tag) => /\bsrc="\/ui\/app\.js\?v=\w+"/.test(tag))).toBe(
        true,
      );
      expect(html).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/);
    }
  });

  it('serves the bundle immutable under its version, gzipped when asked, and revalidates by ETag', async () => {
    const shell = (await raw(server.port, '/')).body.toString();
    const src = /src="(\/ui\/app\.js\?v=\w+)"/.exec(shell)![1]!;
    const versioned = await raw(server.port, src, { 'Accept-Encoding': 'gzip, br' });
    expect(versioned.status).toBe(200);
    expect(versioned.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(versioned.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(versioned.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(versioned.body).toString()).toBe(js);
    const plain = await raw(server.port, '/ui/app.js');
    expect(plain.headers['cache-control']).toBe('no-cache');
    expect(plain.body.toString()).toBe(js);
    const again = await raw(server.port, '/ui/app.js', { 'If-None-Match': String(plain.headers.etag) });
    expect(again.status).toBe(304);
    expect((await raw(server.port, '/ui/nothing.js')).status).toBe(404);
    expect((await raw(server.port, '/ui/favicon.svg')).headers['content-type']).toBe('image/svg+xml');
  });

  it('keeps the Host check on the UI, and serves it without the token on a token-protected server', async () => {
    expect((await raw(server.port, '/', { Host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await raw(guarded.port, '/')).status).toBe(200);
    expect((await raw(guarded.port, '/ui/app.css')).status).toBe(200);
    expect((await raw(guarded.port, '/api/v1/workflows')).status).toBe(401);
    const authorized = await raw(guarded.port, '/api/v1/workflows', {
      Authorization: 'Bearer a-token-of-sixteen-chars',
    });
    expect(authorized.status).toBe(200);
  });

  it('says the UI is not built when its files are missing, and keeps the API', async () => {
    const bare = await startHttpServer({
      service: new FakeWorkflowService(),
      port: 0,
      webUi: createWebUi(join(dir, 'missing')),
    });
    try {
      const res = await raw(bare.port, '/');
      expect(res.status).toBe(503);
      expect(res.body.toString()).toContain('npm run build');
      expect((await raw(bare.port, '/api/v1/health')).status).toBe(200);
      expect(JSON.parse((await raw(bare.port, '/api/v1/info')).body.toString())).toEqual({
        timeControl: false,
        schedules: false,
        tokenRequired: false,
      });
    } finally {
      await bare.close();
    }
  });

  it('says which workflow types the code exports and whether time control is there (GET /api/v1/info)', async () => {
    const res = await raw(server.port, '/api/v1/info');
    expect(JSON.parse(res.body.toString())).toEqual({
      workflowTypes: ['orderWorkflow', 'shipping'],
      timeControl: false,
      schedules: false,
      tokenRequired: false,
    });
  });
});

describe('code frames of a run (GET .../source)', () => {
  it("reads the lines around each call site of the description, inside the project's source only", async () => {
    const root = await mkdtemp(join(tmpdir(), 'wf-frames-'));
    try {
      await mkdir(join(root, 'src', 'workflows'), { recursive: true });
      await writeFile(join(root, 'src', 'workflows', 'index.ts'), 'a\nb\nc\nd\ne\nf\n');
      await writeFile(join(root, 'secret.env'), 'TOKEN=x\n');
      const elsewhere = await mkdtemp(join(tmpdir(), 'wf-elsewhere-'));
      await writeFile(join(elsewhere, 'secret.ts'), 'export const TOKEN = 1;\n');
      await symlink(join(elsewhere, 'secret.ts'), join(root, 'src', 'link.ts'));
      const description = {
        workflowId: 'w',
        runId: 'r',
        workflowType: 't',
        status: 'RUNNING',
        startTime: '2026-01-01T00:00:00.000Z',
        historyLength: 3,
        pendingActivities: [
          {
            seq: 1,
            activityType: 'x',
            attempt: 1,
            callSite: { file: 'src/workflows/index.ts', line: 2, column: 3 },
          },
        ],
        pendingTimers: [
          { seq: 2, fireAt: '', callSite: { file: '../outside.ts', line: 1, column: 1 } },
          { seq: 3, fireAt: '', callSite: { file: 'src/link.ts', line: 1, column: 1 } },
        ],
        paused: {
          reason:
            'history recorded: ActivityTaskScheduled a (seq 1) at src/workflows/index.ts:5\n' +
            'code issued:      ActivityTaskScheduled b (seq 1) at secret.env:1',
        },
      } satisfies RunDescription;
      const sites = callSitesOf(description);
      expect(sites.map((s) => `${s.file}:${s.line}`)).toEqual([
        'src/workflows/index.ts:2',
        '../outside.ts:1',
        'src/link.ts:1',
        'src/workflows/index.ts:5',
        'secret.env:1',
      ]);
      const frames = await sourceFrames(root, sites, 1);
      await rm(elsewhere, { recursive: true, force: true });
      expect(frames).toEqual([
        {
          file: 'src/workflows/index.ts',
          line: 2,
          column: 3,
          lines: [
            { line: 1, text: 'a' },
            { line: 2, text: 'b' },
            { line: 3, text: 'c' },
          ],
        },
        {
          file: 'src/workflows/index.ts',
          line: 5,
          lines: [
            { line: 4, text: 'd' },
            { line: 5, text: 'e' },
            { line: 6, text: 'f' },
          ],
        },
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
