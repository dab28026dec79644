import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpServer, startHttpServer } from '../src/devserver/http-server.js';
import { FakeWorkflowService } from './support/fake-service.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = existsSync(`${root}/dist/commands/index.js`);

describe.skipIf(!built)(
  'wf client commands against an HTTP server over a fake service (needs `npm run build`)',
  () => {
    let service: FakeWorkflowService;
    let server: HttpServer;

    beforeAll(async () => {
      service = new FakeWorkflowService();
      server = await startHttpServer({ service, port: 0 });
    });
    afterAll(() => server.close());

    // Asynchronous: the server runs in this process.
    const wf = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [`${root}/bin/run.js`, ...args],
          {
            cwd: root,
            env: { ...process.env, NO_COLOR: '1', NODE_ENV: 'production', WF_ADDRESS: server.url },
          },
          (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
        );
      });

    it('starts, signals, queries, shows, lists and reads results', async () => {
      const started = await wf(
        'start',
        '--type',
        'orderWorkflow',
        '-w',
        'o/1',
        '--input',
        '{"amount":5}',
        '--input',
        '2',
        '-o',
        'json',
      );
      expect(started).toMatchObject({ code: 0 });
      expect(JSON.parse(started.stdout)).toEqual({ workflowId: 'o/1', runId: 'run-1' });
      expect(service.calls[0]!.args[0]).toMatchObject({ args: [{ amount: 5 }, 2] });

      expect((await wf('signal', '-w', 'o/1', '--name', 'approve', '--input', '"ada"')).stdout).toBe(
        'Signal approve sent to o/1\n',
      );
      expect((await wf('query', '-w', 'o/1', '--name', 'state', '-o', 'json')).stdout).toBe(
        '{"approve":["ada"]}\n',
      );
      const show = await wf('show', '-w', 'o/1');
      expect(show.stdout).toMatch(/WorkflowSignaled\s+approve\("ada"\)/);
      const lines = (await wf('show', '-w', 'o/1', '-o', 'json')).stdout.trim().split('\n');
      expect(lines.map((l) => JSON.parse(l).type)).toEqual(['WorkflowExecutionStarted', 'WorkflowSignaled']);
      expect((await wf('list')).stdout).toMatch(
        /^WORKFLOW ID\s+TYPE\s+STATUS[\s\S]*o\/1\s+orderWorkflow\s+RUNNING/,
      );
      expect((await wf('describe', '-w', 'o/1')).stdout).toMatch(/Status\s+RUNNING/);

      service.complete('o/1', { ok: true });
      expect((await wf('result', '-w', 'o/1', '-o', 'json')).stdout).toBe('{"ok":true}\n');
    });

    it('exits 1 with the failure when the workflow failed', async () => {
      await wf('start', '--type', 'greet', '-w', 'f');
      service.fail('f', { name: 'ApplicationFailure', type: 'Boom', message: 'it broke' });
      const res = await wf('result', '-w', 'f');
      expect(res.code).toBe(1);
      expect(res.stderr).toBe('Error: workflow "f" failed: it broke\n');
    });

    it('exits 1 for an unknown workflow ID and 2 for an unknown type or bad policy', async () => {
      expect(await wf('describe', '-w', 'ghost')).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/^Error: no workflow with ID "ghost"/),
      });
      expect((await wf('start', '--type', 'nope', '-w', 'x')).code).toBe(2);
      const bad = await wf('start', '--type', 'greet', '-w', 'x', '--id-reuse-policy', 'sometimes');
      expect(bad).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/--id-reuse-policy must be one of/),
      });
      expect(
        (await wf('start', '--type', 'greet', '-w', 'y', '--id-reuse-policy', 'RejectDuplicate')).code,
      ).toBe(0);
    });
  },
);
