import { afterAll, describe, it } from 'vitest';
import {
  dropSchemas,
  postgresAvailable,
  randomSchema,
  TEST_DATABASE_URL,
} from '../../test/support/postgres-db.js';
import { historyStoreContract, sharedStoreContract } from '../../test/support/store-contract.js';
import { PostgresHistoryStore } from './postgres-store.js';

const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

let current = '';
const open = async () => {
  current = randomSchema();
  schemas.push(current);
  return PostgresHistoryStore.open({ url: TEST_DATABASE_URL, schema: current, migrate: true, poolSize: 4 });
};
const openPeer = (options: { poolSize?: number; watch?: 'listen' | 'poll' } = {}) =>
  PostgresHistoryStore.open({
    url: TEST_DATABASE_URL,
    schema: current,
    poolSize: options.poolSize ?? 4,
    ...(options.watch ? { watch: options.watch, pollIntervalMs: 50 } : {}),
  });

if (postgresAvailable) {
  historyStoreContract('PostgresHistoryStore', { open });
  sharedStoreContract('PostgresHistoryStore', { open, openPeer });
} else {
  describe.skip('PostgresHistoryStore contract (no PostgreSQL: set WF_TEST_DATABASE_URL)', () => {
    it('needs PostgreSQL', () => {});
  });
}
