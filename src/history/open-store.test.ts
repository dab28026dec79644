import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleHistory } from '../../test/support/history-samples.js';
import {
  dropSchemas,
  postgresAvailable,
  randomSchema,
  TEST_DATABASE_URL,
} from '../../test/support/postgres-db.js';
import { openStore, readStoredHistory, storeSpecFrom } from './open-store.js';

const schemas: string[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await dropSchemas(schemas);
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wf-open-store-'));
  dirs.push(dir);
  return dir;
}

describe('openStore', () => {
  it('opens a directory as the file store, and refuses a read-only look at a directory that is no store', async () => {
    const dir = await tempDir();
    await expect(openStore(dir, { readOnly: true, flag: '--from-store' })).rejects.toThrow(
      /is not a wf store \(it has no runs\/ folder\): check --from-store/,
    );
    const opened = await openStore(dir);
    expect(opened.kind).toBe('file');
    await opened.store.append({ workflowId: 'w', runId: 'r' }, sampleHistory('w', 'r'));
    await opened.store.close();
    expect(await readStoredHistory(dir, { workflowId: 'w' })).toEqual(sampleHistory('w', 'r'));
    await expect(readStoredHistory(dir, { workflowId: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(readStoredHistory(dir, { workflowId: 'w', runId: 'nope' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('refuses URLs of other databases instead of taking them for directories, hiding passwords', async () => {
    await expect(openStore('mysql://user:secret@db/app')).rejects.toThrow(
      /--store mysql:\/\/user:\*\*\*@db\/app: only postgres:\/\/ and postgresql:\/\/ URLs/,
    );
  });

  it('takes the flag first, then DATABASE_URL', () => {
    expect(storeSpecFrom('.wf', { DATABASE_URL: 'postgres://x/y' })).toBe('.wf');
    expect(storeSpecFrom(undefined, { DATABASE_URL: 'postgres://x/y' })).toBe('postgres://x/y');
    expect(storeSpecFrom(undefined, {})).toBeUndefined();
  });

  it.runIf(postgresAvailable)(
    'opens postgres:// and postgresql:// URLs as the PostgreSQL store',
    async () => {
      const schema = randomSchema();
      schemas.push(schema);
      const opened = await openStore(TEST_DATABASE_URL, { schema, migrate: true });
      expect(opened.kind).toBe('postgres');
      expect(opened.where).toContain(`(schema ${schema})`);
      await opened.store.append({ workflowId: 'w', runId: 'r' }, sampleHistory('w', 'r'));
      await opened.store.close();
      const other = TEST_DATABASE_URL.replace(/^postgres:/, 'postgresql:');
      expect(await readStoredHistory(other, { workflowId: 'w', schema })).toEqual(sampleHistory('w', 'r'));
    },
  );
});

const dist = fileURLToPath(new URL('../../dist/', import.meta.url));

describe.skipIf(!existsSync(path.join(dist, 'history', 'open-store.js')))('loading (needs a build)', () => {
  it('does not load the PostgreSQL driver until a postgres:// store is opened', async () => {
    const dir = await tempDir();
    const hook = path.join(dir, 'hook.mjs');
    await fs.writeFile(
      hook,
      "export async function resolve(s, c, next) { if (s === 'pg') process.stdout.write('PG '); return next(s, c); }\n",
    );
    const register = path.join(dir, 'register.mjs');
    await fs.writeFile(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(new URL(`file://${hook}`).href)});\n`,
    );
    const load = (code: string) =>
      spawnSync(process.execPath, ['--import', register, '--input-type=module', '-e', code], {
        encoding: 'utf8',
      }).stdout;
    const openStoreJs = JSON.stringify(path.join(dist, 'history', 'open-store.js'));
    const replayJs = JSON.stringify(path.join(dist, 'replay', 'replay-runner.js'));
    expect(
      load(`await import(${replayJs}); await import(${openStoreJs}); process.stdout.write('done')`),
    ).toBe('done');
    expect(
      load(
        `const m = await import(${openStoreJs}); await m.openStore('postgres://u@127.0.0.1:1/db').catch(() => {}); process.stdout.write('done')`,
      ),
    ).toMatch(/^(PG )+done$/);
  });
});
