/**
 * Temporal's client shapes over HTTP: `new Client({ connection: await Connection.connect(...) })`
 * against the built `wf dev` (run `npm run build` first), and `connect()`'s client the same way.
 */
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection, connect, type WorkflowClient } from 'wfkit/client';
import {
  built,
  type DevServer,
  freePort,
  killAll,
  makeProject,
  removeTempDirs,
  spawnDev,
} from '../acceptance/support.js';
import { startUpdateAccepted, updateWithStart, workflowClientShape } from './client-scenarios.js';

const projectSource = fileURLToPath(new URL('./client-project/src', import.meta.url));

describe.skipIf(!built)('Temporal client shapes under wf dev (needs a build)', () => {
  let dev: DevServer;
  let connection: Connection;
  let client: Client;
  let plain: WorkflowClient;

  beforeAll(async () => {
    const project = await makeProject({});
    await cp(projectSource, path.join(project, 'src'), { recursive: true });
    dev = await spawnDev(project);
    // Temporal's host:port form of the address.
    connection = await Connection.connect({ address: new URL(dev.url).host });
    client = new Client({ connection });
    plain = connect({ address: dev.url });
  });
  afterAll(async () => {
    await connection?.close();
    await plain?.close();
    await killAll();
    await removeTempDirs();
  });

  it('startUpdate returns at ACCEPTED; result() and getUpdateHandle wait for completion', async () => {
    await startUpdateAccepted(client, 'dev-accepted');
  });

  it('executeUpdateWithStart / startUpdateWithStart start or use the open run, then update it', async () => {
    await updateWithStart(client, 'dev-with-start');
  });

  it("connect()'s client has the same shape: client.workflow, client.activity", async () => {
    await workflowClientShape(plain, 'dev-plain');
  });

  it('Connection.connect fails at once, saying where, when no server answers', async () => {
    const port = await freePort();
    await expect(Connection.connect({ address: `127.0.0.1:${port}` })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining(`127.0.0.1:${port}`),
    });
  });
});
