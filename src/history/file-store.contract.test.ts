import * as fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { historyStoreContract } from '../../test/support/store-contract.js';
import { FileHistoryStore } from './file-store.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

historyStoreContract('FileHistoryStore', {
  open: async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wf-contract-'));
    dirs.push(dir);
    return FileHistoryStore.open(dir);
  },
});
