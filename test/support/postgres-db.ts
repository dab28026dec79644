/**
 * The PostgreSQL of the tests: `WF_TEST_DATABASE_URL`, or the machine's own server on 127.0.0.1:5432
 * (trust auth, database `test`). Each test file works in a fresh schema with a random name and drops
 * it afterwards. Without a reachable server the tests are skipped with one line saying how to run
 * them, unless `WF_REQUIRE_POSTGRES=1` (CI), which makes them fail instead.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_DATABASE_URL =
  process.env.WF_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const required = process.env.WF_REQUIRE_POSTGRES === '1';

async function reachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

const problem = await reachable(TEST_DATABASE_URL);
if (problem && required) {
  throw new Error(
    `WF_REQUIRE_POSTGRES=1 but PostgreSQL at ${TEST_DATABASE_URL} is not reachable (${problem}): start it (pg_ctlcluster --skip-systemctl-redirect 15 main start) or set WF_TEST_DATABASE_URL`,
  );
}
if (problem) {
  console.log(
    `PostgreSQL tests skipped: nothing answers at ${TEST_DATABASE_URL} (${problem}). To run them, start PostgreSQL there or set WF_TEST_DATABASE_URL=postgres://USER@HOST:PORT/DB (WF_REQUIRE_POSTGRES=1 fails instead of skipping).`,
  );
}

/** True when the PostgreSQL tests can run. */
export const postgresAvailable = problem === undefined;

/** A fresh schema name, unique to this test file's run. */
export function randomSchema(prefix = 'wft'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Drops the schemas a test file made. */
export async function dropSchemas(schemas: string[]): Promise<void> {
  if (!postgresAvailable || schemas.length === 0) return;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    for (const schema of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Runs one SQL statement on the test database (to break things on purpose, or to look). */
export async function sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}
