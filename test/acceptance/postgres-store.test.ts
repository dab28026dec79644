import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dropSchemas, postgresAvailable, randomSchema, TEST_DATABASE_URL } from '../support/postgres-db.js';
import { built, copyOrderSaga, removeTempDirs, wf } from './support.js';

const order = (id: string) =>
  JSON.stringify({
    orderId: id,
    amount: 4999,
    items: [{ sku: 'WIDGET-1', qty: 2 }],
    email: 'ada@example.com',
  });

const schemas: string[] = [];

describe.skipIf(!built || !postgresAvailable)(
  'acceptance: moving the order saga to PostgreSQL (needs a build)',
  () => {
    afterAll(async () => {
      await removeTempDirs();
      await dropSchemas(schemas);
    });

    it('wf db migrate, wf db import, then export and replay give what the file store gives', async () => {
      const schema = randomSchema('wfacc');
      schemas.push(schema);
      const project = await copyOrderSaga();
      const dir = path.join(project, '.wf');
      const db = ['--store', TEST_DATABASE_URL, '--schema', schema];

      for (const id of ['order-1', 'order-2']) {
        const ran = await wf([
          'run',
          'orderWorkflow',
          '--project',
          project,
          '--workflow-id',
          id,
          '--input',
          order(id),
        ]);
        expect(ran, ran.stderr).toMatchObject({ code: 0 });
      }

      // Before the schema exists, the store says how to create it.
      const early = await wf(['export', ...db, '--workflow-id', 'order-1']);
      expect(early.code).toBe(1);
      expect(early.stderr).toContain(
        `no wf schema "${schema}": run \`wf db migrate --store URL --schema ${schema}\``,
      );

      const migrated = await wf(['db', 'migrate', ...db]);
      expect(migrated, migrated.stderr).toMatchObject({ code: 0 });
      expect(migrated.stdout).toMatch(/applied migration 1: runs, events, inbox/);
      const again = await wf(['db', 'migrate', ...db]);
      expect(again.stdout).toMatch(/is up to date \(version \d+\)/);

      const imported = await wf(['db', 'import', dir, ...db]);
      expect(imported, imported.stderr).toMatchObject({ code: 0, stderr: '' });
      expect(imported.stdout).toMatch(/2 new runs, 0 completed, 0 already there \(\d+ events written\)/);
      const reimported = await wf(['db', 'import', dir, ...db, '-o', 'json']);
      expect(JSON.parse(reimported.stdout)).toMatchObject({
        created: 0,
        unchanged: 2,
        events: 0,
        problems: [],
      });

      for (const id of ['order-1', 'order-2']) {
        const fromFiles = await wf(['export', '--store', dir, '--workflow-id', id]);
        const fromDb = await wf(['export', ...db, '--workflow-id', id]);
        expect(fromFiles, fromFiles.stderr).toMatchObject({ code: 0 });
        expect(fromDb, fromDb.stderr).toMatchObject({ code: 0 });
        expect(fromFiles.stdout).toMatch(/"type":"WorkflowExecutionCompleted"/);
        expect(fromDb.stdout).toBe(fromFiles.stdout);
      }
      const file = path.join(project, 'order-1.jsonl');
      await wf(['export', ...db, '--workflow-id', 'order-1', '--file', file]);
      const exported = await wf(['export', '--store', dir, '--workflow-id', 'order-1']);
      expect(await readFile(file, 'utf8')).toBe(exported.stdout);

      const replayed = await wf([
        'replay',
        '--project',
        project,
        '--from-store',
        TEST_DATABASE_URL,
        '--schema',
        schema,
      ]);
      expect(replayed, replayed.stderr).toMatchObject({ code: 0 });
      expect(replayed.stdout).toMatch(/2 of 2 histories replayed/);

      const missing = await wf(['export', ...db, '--workflow-id', 'no-such-order']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/no workflow with ID "no-such-order"/);
    });

    it('says what to check when the database cannot be reached or the store is not a database', async () => {
      const unreachable = await wf(['db', 'migrate', '--store', 'postgres://postgres@127.0.0.1:1/test']);
      expect(unreachable.code).toBe(1);
      expect(unreachable.stderr).toMatch(/cannot reach PostgreSQL at 127\.0\.0\.1:1 \(connection refused\)/);
      expect(unreachable.stderr).not.toMatch(/bug in wf/);

      const notDb = await wf(['db', 'migrate', '--store', '.wf']);
      expect(notDb.code).toBe(2);
      expect(notDb.stderr).toMatch(/--store must be a postgres:\/\/ or postgresql:\/\/ URL/);

      const help = await wf(['--help']);
      expect(help.stdout).toMatch(/\n {2}db +wf's PostgreSQL store: create its schema \(wf db migrate\)/);

      const none = await wf(['db', 'migrate'], { DATABASE_URL: '' });
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/needs a database: pass --store postgres:\/\/.* or set DATABASE_URL/);
    });
  },
);
