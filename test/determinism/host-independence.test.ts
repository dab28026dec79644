/**
 * The built binary runs the same workflow under two hosts' time zones and locales: the result (and
 * so every branch workflow code takes on it) is the same.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { built, makeProject, removeTempDirs, wf } from '../acceptance/support.js';

const workflows = fileURLToPath(new URL('../fixtures/replay/src/workflows/index.ts', import.meta.url));

describe.skipIf(!built)('workflow code does not see the host (needs `npm run build`)', () => {
  afterAll(removeTempDirs);

  it('reads and formats dates and numbers the same in Tokyo with a German locale as in UTC with C', async () => {
    const project = await makeProject({ 'src/workflows/index.ts': await readFile(workflows, 'utf8') });
    const run = async (env: Record<string, string>) => {
      const result = await wf(['run', 'hostIndependent', '--workflow-id', 'host'], env, project);
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as Record<string, unknown>;
    };
    const german = await run({ TZ: 'Asia/Tokyo', LC_ALL: 'de_DE.UTF-8', LANG: 'de_DE.UTF-8' });
    const plain = await run({ TZ: 'UTC', LC_ALL: 'C', LANG: 'C' });
    expect(german).toEqual(plain);
    expect(german).toMatchObject({
      parsedLocal: Date.UTC(2026, 0, 1, 10),
      number: '1,234.5',
      dateTimeZone: 'UTC',
      dateLocale: 'en-US',
      encodedIsUint8Array: true,
      cloneIsObject: true,
    });
  });
});
