/**
 * `wf serve` on PostgreSQL, as an operator runs it: several real server processes on one database.
 * Work is shared, any server answers for any run, a server killed or frozen mid-activity is taken
 * over after its lease, its late appends are fenced off, and the database going away loses nothing.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/connect.js';
import {
  dropSchemas,
  postgresAvailable,
  randomSchema,
  sql,
  TEST_DATABASE_URL,
} from '../support/postgres-db.js';
import {
  built,
  copyOrderSaga,
  type DevServer,
  killAll,
  makeProject,
  removeTempDirs,
  spawnDev,
  wf,
} from './support.js';

const schemas: string[] = [];

const batchProject = () =>
  makeProject({
    'src/workflows/index.ts': `
import { proxyActivities, sleep } from 'wfkit/workflow';
import type * as activities from '../activities/index.js';
const { step } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute', retry: { initialInterval: '50ms' } });

/** Runs \`count\` steps, each recorded once; a short durable timer in the middle. */
export async function batch(count: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < count; i++) {
    total += await step(i);
    if (i === 0) await sleep('10ms');
  }
  return total;
}
`,
    'src/activities/index.ts': `
import { appendFileSync, existsSync } from 'node:fs';
import { Context } from 'wfkit/activity';

/** Records each execution (key and attempt) in executions.log; step 1 waits while hold/ exists. */
export async function step(i: number): Promise<number> {
  const { idempotencyKey } = Context.current().info;
  appendFileSync('executions.log', \`start \${idempotencyKey} \${process.pid}\\n\`);
  while (i === 1 && existsSync('hold')) await Context.current().sleep(20);
  appendFileSync('executions.log', \`done \${idempotencyKey} \${process.pid}\\n\`);
  return i;
}
`,
  });

async function serve(
  project: string,
  schema: string,
  options: { args?: string[]; env?: Record<string, string>; lease?: string } = {},
) {
  return spawnDev(project, {
    command: 'serve',
    args: [
      ...['--store', TEST_DATABASE_URL, '--schema', schema, '--migrate', '--log-format', 'text'],
      ...['--lease', options.lease ?? '1s', ...(options.args ?? [])],
    ],
    ready: /^\s+claimed:/,
    env: options.env ?? {},
  });
}

const client = (server: DevServer) => ['--address', server.url];

/** `wf show --output json` prints one event per line. */
const jsonLines = (text: string): unknown[] =>
  text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

async function executions(project: string): Promise<{ started: string[]; done: string[] }> {
  const text = await readFile(path.join(project, 'executions.log'), 'utf8').catch(() => '');
  const lines = text.split('\n').filter(Boolean);
  return {
    started: lines.filter((l) => l.startsWith('start ')).map((l) => l.split(' ')[1]!),
    done: lines.filter((l) => l.startsWith('done ')).map((l) => l.split(' ')[1]!),
  };
}

describe.skipIf(!built || !postgresAvailable)(
  'acceptance: wf serve on PostgreSQL, several processes (needs a build)',
  () => {
    afterEach(killAll);
    afterAll(async () => {
      await removeTempDirs();
      await dropSchemas(schemas);
    });

    it('the order saga and a 20-workflow batch complete through two servers; any server answers for any run', {
      timeout: 90_000,
    }, async () => {
      const schema = randomSchema('wfsrv');
      schemas.push(schema);
      const project = await copyOrderSaga();
      const a = await serve(project, schema);
      const b = await serve(project, schema);
      const order = JSON.stringify({
        orderId: 'o-1',
        amount: 4999,
        items: [{ sku: 'WIDGET-1', qty: 2 }],
        email: 'ada@example.com',
      });
      const started = await wf([
        'start',
        ...client(a),
        '--type',
        'orderWorkflow',
        '--workflow-id',
        'order-1',
        '--input',
        order,
      ]);
      expect(started.code, started.stderr).toBe(0);
      const result = await wf(['result', ...client(b), '--workflow-id', 'order-1', '--output', 'json']);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ orderId: 'o-1' });

      // The batch as an application sends it: through wfkit/client, half to each server.
      const batch = await batchProject();
      const c = await serve(batch, `${schema}b`, { lease: '10s' });
      const d = await serve(batch, `${schema}b`, { lease: '10s' });
      schemas.push(`${schema}b`);
      const clients = [connect({ address: c.url }), connect({ address: d.url })];
      try {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            clients[i % 2]!.start('batch', { workflowId: `batch-${i}`, args: [3] }),
          ),
        );
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => clients[(i + 1) % 2]!.getHandle(`batch-${i}`).result()),
        );
        expect(results).toEqual(Array.from({ length: 20 }, () => 3));
      } finally {
        for (const one of clients) await one.close();
      }
      const { started: ran } = await executions(batch);
      expect(new Set(ran).size).toBe(60);
      expect(ran).toHaveLength(60);
      const listed = await wf(['list', ...client(c), '--output', 'json']);
      const runs = jsonLines(listed.stdout) as { workflowId: string; status: string }[];
      expect(runs.filter((r) => r.workflowId.startsWith('batch-') && r.status === 'COMPLETED')).toHaveLength(
        20,
      );
    });

    it('kill -9 of a server mid-activity: the other takes its runs over and re-runs only the step in flight', async () => {
      const schema = randomSchema('wfsrv');
      schemas.push(schema);
      const project = await batchProject();
      await import('node:fs/promises').then((fs) => fs.writeFile(path.join(project, 'hold'), ''));
      const a = await serve(project, schema);
      const started = await wf([
        'start',
        ...client(a),
        '--type',
        'batch',
        '--workflow-id',
        'crashy',
        '--input',
        '3',
      ]);
      expect(started.code, started.stderr).toBe(0);
      await expect.poll(async () => (await executions(project)).started.length, { timeout: 10_000 }).toBe(2);
      await a.kill('SIGKILL');
      await import('node:fs/promises').then((fs) => fs.rm(path.join(project, 'hold')));
      const b = await serve(project, schema);
      const result = await wf(['result', ...client(b), '--workflow-id', 'crashy', '--output', 'json']);
      expect(JSON.parse(result.stdout), result.stderr).toBe(3);
      const { started: ran, done } = await executions(project);
      // Step 0 ran once; step 1 was in flight at the kill and ran again; step 2 once.
      expect(ran).toHaveLength(4);
      expect(new Set(done).size).toBe(3);
      const shown = await wf(['show', ...client(b), '--workflow-id', 'crashy', '--output', 'json']);
      const events = jsonLines(shown.stdout) as { eventId: number; type: string }[];
      expect(events.map((e) => e.eventId)).toEqual(events.map((_, i) => i + 1));
      expect(events.filter((e) => e.type === 'ActivityTaskCompleted')).toHaveLength(3);
    });

    it('SIGSTOP past the lease: the other server takes over; after SIGCONT the stopped one is fenced off, the history is not forked', async () => {
      const schema = randomSchema('wfsrv');
      schemas.push(schema);
      const project = await batchProject();
      await import('node:fs/promises').then((fs) => fs.writeFile(path.join(project, 'hold'), ''));
      const a = await serve(project, schema);
      await wf(['start', ...client(a), '--type', 'batch', '--workflow-id', 'frozen', '--input', '3']);
      await expect.poll(async () => (await executions(project)).started.length, { timeout: 10_000 }).toBe(2);
      a.proc.kill('SIGSTOP');
      const b = await serve(project, schema);
      // b takes the run over once a's lease (1 s) has run out, and re-runs step 1 (still held).
      await expect.poll(async () => (await executions(project)).started.length, { timeout: 10_000 }).toBe(3);
      await import('node:fs/promises').then((fs) => fs.rm(path.join(project, 'hold')));
      a.proc.kill('SIGCONT'); // a's step 1 finishes too now: its append must be refused
      const result = await wf(['result', ...client(b), '--workflow-id', 'frozen', '--output', 'json']);
      expect(JSON.parse(result.stdout), result.stderr).toBe(3);
      await a.waitFor(/lease|held by/i, 10_000);
      const rows = await sql<{ n: string }>(
        `SELECT count(*) AS n FROM "${schema}".events e JOIN "${schema}".runs r ON r.id = e.run WHERE r.workflow_id = 'frozen' AND e.line LIKE '%ActivityTaskCompleted%'`,
      );
      expect(Number(rows[0]!.n)).toBe(3);
      const shown = await wf(['show', ...client(a), '--workflow-id', 'frozen', '--output', 'json']);
      const events = jsonLines(shown.stdout) as { eventId: number }[];
      expect(events.map((e) => e.eventId)).toEqual(events.map((_, i) => i + 1));
    });

    it('PostgreSQL connections cut under load: servers reconnect, nothing lost, nothing duplicated', async () => {
      const schema = randomSchema('wfsrv');
      schemas.push(schema);
      const project = await batchProject();
      const a = await serve(project, schema);
      const b = await serve(project, schema);
      const starts = Array.from({ length: 10 }, (_, i) =>
        wf([
          'start',
          ...client(i % 2 ? a : b),
          '--type',
          'batch',
          '--workflow-id',
          `cut-${i}`,
          '--input',
          '4',
        ]),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await sql(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database() AND application_name LIKE 'wf%'`,
      );
      const startResults = await Promise.all(starts);
      for (const [i, r] of startResults.entries()) {
        if (r.code !== 0) {
          // A start cut mid-commit is retried, as a client would: the ID policy makes it safe.
          const again = await wf([
            'start',
            ...client(a),
            '--type',
            'batch',
            '--workflow-id',
            `cut-${i}`,
            '--input',
            '4',
            '--id-conflict-policy',
            'USE_EXISTING',
          ]);
          expect(again.code, again.stderr).toBe(0);
        }
      }
      for (let i = 0; i < 10; i++) {
        const r = await wf([
          'result',
          ...client(i % 2 ? b : a),
          '--workflow-id',
          `cut-${i}`,
          '--output',
          'json',
        ]);
        expect(JSON.parse(r.stdout), r.stderr).toBe(6);
      }
      const rows = await sql<{ workflow_id: string; n: string }>(
        `SELECT r.workflow_id, count(*) AS n FROM "${schema}".events e JOIN "${schema}".runs r ON r.id = e.run WHERE e.line LIKE '%ActivityTaskCompleted%' GROUP BY r.workflow_id`,
      );
      expect(rows).toHaveLength(10);
      for (const row of rows) expect(Number(row.n)).toBe(4);
    });

    it('rolling deploy: a build that cannot replay a run hands it back unfailed, and a build that can finishes it', {
      timeout: 60_000,
    }, async () => {
      const schema = randomSchema('wfsrv');
      schemas.push(schema);
      const oldBuild = await batchProject();
      await writeFile(path.join(oldBuild, 'hold'), '');
      const a = await serve(oldBuild, schema);
      await wf(['start', ...client(a), '--type', 'batch', '--workflow-id', 'deployed', '--input', '3']);
      await expect.poll(async () => (await executions(oldBuild)).started.length, { timeout: 10_000 }).toBe(2);
      await a.kill('SIGKILL');
      // The new build waits for a timer before each step: it cannot replay the old build's history.
      const newBuild = await batchProject();
      const source = path.join(newBuild, 'src/workflows/index.ts');
      await writeFile(
        source,
        (await readFile(source, 'utf8')).replace(
          'total += await step(i);',
          "await sleep('1ms');\n    total += await step(i);",
        ),
      );
      const b = await serve(newBuild, schema);
      await b.waitFor(/deployed.*paused|paused.*deployed/i, 15_000);
      const described = await wf(['describe', ...client(b), '--workflow-id', 'deployed']);
      // Open (not failed): paused for this build, with the reason.
      expect(described.stdout, described.stderr).toMatch(/Status\s+PAUSED/);
      expect(described.stdout).toMatch(/cannot replay/);
      expect(described.stdout).toMatch(/Build\s+\w+/);
      // Two builds have been live on this database: the new one is still serving.
      const cluster = await wf(['cluster', ...client(b), '--output', 'json']);
      const info = JSON.parse(cluster.stdout) as {
        store: string;
        servers: { buildId: string; pid: number }[];
      };
      expect(info.store).toBe('shared');
      expect(info.servers.map((s) => s.pid)).toContain(b.proc.pid);
      // The old build comes back (a second instance of it): it replays the run and finishes it.
      await rm(path.join(oldBuild, 'hold'));
      const c = await serve(oldBuild, schema);
      const result = await wf(['result', ...client(c), '--workflow-id', 'deployed', '--output', 'json']);
      expect(JSON.parse(result.stdout), result.stderr).toBe(3);
    });

    it('wf dev runs the project on the PostgreSQL store it deploys on (--store postgres://, --migrate)', async () => {
      const schema = randomSchema('wfsrv');
      schemas.push(schema);
      const project = await batchProject();
      const dev = await spawnDev(project, {
        args: ['--store', TEST_DATABASE_URL, '--schema', schema, '--migrate', '--plain', '--no-watch'],
      });
      expect(dev.output()).toMatch(/store:\s+postgres:\/\/.*schema/);
      const ran = await wf([
        'execute',
        ...client(dev),
        '--type',
        'batch',
        '--workflow-id',
        'dev-pg',
        '--input',
        '2',
      ]);
      expect(ran.code, ran.stderr).toBe(0);
      const rows = await sql<{ status: string }>(
        `SELECT status FROM "${schema}".runs WHERE workflow_id = 'dev-pg'`,
      );
      expect(rows).toEqual([{ status: 'COMPLETED' }]);
    });

    it('refuses a public address without an API token; with one, clients must send it', async () => {
      const schema = randomSchema('wfsrv');
      schemas.push(schema);
      const project = await batchProject();
      const refused = await wf([
        'serve',
        '--project',
        project,
        '--store',
        TEST_DATABASE_URL,
        '--schema',
        schema,
        '--host',
        '0.0.0.0',
      ]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/without an API token.*WF_API_TOKEN/s);
      const token = 'a-long-random-secret-0123456789';
      const server = await serve(project, schema, {
        args: ['--host', '0.0.0.0'],
        env: { WF_API_TOKEN: token },
      });
      const anonymous = await wf(['list', ...client(server)]);
      expect(anonymous.code).not.toBe(0);
      expect(anonymous.stderr).toMatch(/requires an API token/);
      const wrong = await wf(['list', ...client(server), '--api-token', 'not-the-token-at-all']);
      expect(wrong.stderr).toMatch(/token is wrong/);
      const ok = await wf(
        ['start', ...client(server), '--type', 'batch', '--workflow-id', 't-1', '--input', '1'],
        { WF_API_TOKEN: token },
      );
      expect(ok.code, ok.stderr).toBe(0);
      const result = await wf([
        'result',
        ...client(server),
        '--workflow-id',
        't-1',
        '--output',
        'json',
        '--api-token',
        token,
      ]);
      expect(JSON.parse(result.stdout)).toBe(0);
    });
  },
);
