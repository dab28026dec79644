import { historyStoreContract } from '../../test/support/store-contract.js';
import { MemoryHistoryStore } from './memory-store.js';

historyStoreContract('MemoryHistoryStore', { open: async () => new MemoryHistoryStore() });
