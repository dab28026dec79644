import { afterAll, describe, expect, it } from 'vitest';
import { crashProject } from './fixtures.js';
import { built, killAll, makeProject, removeTempDirs, spawnDev, wf } from './support.js';

describe.skipIf(!built)(
  'acceptance: dev server addresses as Temporal users type them (needs a build)',
  () => {
    afterAll(async () => {
      await killAll();
      await removeTempDirs();
    });

    it('--address host:port and WF_ADDRESS=:port reach the dev server; a bad one says what to type', async () => {
      const dev = await spawnDev(await makeProject(crashProject()));
      expect((await wf(['start', '--type', 'waiting', '-w', 'addr-1'], { WF_ADDRESS: dev.url })).code).toBe(
        0,
      );

      const hostPort = await wf(['list', '--address', `127.0.0.1:${dev.port}`, '-o', 'json']);
      expect(hostPort).toMatchObject({ code: 0, stderr: '' });
      expect(hostPort.stdout).toContain('"workflowId":"addr-1"');

      const portOnly = await wf(['describe', '-w', 'addr-1'], { WF_ADDRESS: `:${dev.port}` });
      expect(portOnly).toMatchObject({ code: 0, stderr: '' });

      const bad = await wf(['list', '--address', '127.0.0.1:http']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(
        /^Error: address "127\.0\.0\.1:http" has "http" where a port number goes: use host:port/,
      );
    });
  },
);
