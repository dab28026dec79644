/**
 * The fast fault cases of the torture suite (test/torture/faults.ts), in `npm test`. The kill -9
 * cycles and the disk faults under a running server run with `npm run torture` (their activities are
 * loaded from TypeScript sources, which needs tsx); test/engine-store-failure.test.ts and the file
 * store's tests cover a failing disk in `npm test`.
 */
import { describe, expect, it } from 'vitest';
import { garbageMidFile, tornTailsAtEveryOffset } from './torture/faults.js';

describe('torture fault cases', () => {
  it('a last line torn at every byte offset, or zero-filled, is cut after a backup; a changed one is reported', async () => {
    const { cases, bytes } = await tornTailsAtEveryOffset();
    expect(cases).toBe(2 * (bytes - 1) + 3);
  });

  it('garbage in the middle of a file is reported with file and line, the file untouched, other runs served', async () => {
    expect((await garbageMidFile()).cases).toBe(18);
  });
});
