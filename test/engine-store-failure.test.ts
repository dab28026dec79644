import * as fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FileHistoryStore } from '../src/history/file-store.js';
import { VirtualClock } from '../src/runtime/clock.js';
import { WorkflowEngine } from '../src/runtime/engine/index.js';
import { loadWorkflowCode } from '../src/runtime/workflow-code.js';
import { renderDescription, renderRunTable } from '../src/ui/render.js';
import { FaultyFileSystem } from './support/faulty-fs.js';

const fixture = (p: string) => fileURLToPath(new URL(`./fixtures/engine/${p}`, import.meta.url));
const cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function engineOnFaultyDisk() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wf-engine-disk-'));
  cleanup.push(() => fs.rm(dir, { recursive: true, force: true }));
  const faulty = new FaultyFileSystem();
  const store = await FileHistoryStore.open(dir, { fs: faulty.fs });
  cleanup.push(() => store.close());
  const code = await loadWorkflowCode({
    workflowsPath: fixture('src/workflows/index.ts'),
    activitiesPath: fixture('src/activities/index.ts'),
  });
  const paused: [string, string | undefined][] = [];
  const engine = new WorkflowEngine({
    store,
    code,
    clock: new VirtualClock(Date.parse('2026-01-01T00:00:00Z')),
    activities: { step: async (name: string) => `did ${name}` },
    onPauseChange: (run, reason) => paused.push([run.workflowId, reason]),
  });
  cleanup.push(() => engine.shutdown());
  return { engine, faulty, store, paused };
}

describe('WorkflowEngine on a disk that fails', () => {
  it('pauses a run whose append failed, and lists, describes and reports it as paused', async () => {
    const { engine, faulty, paused } = await engineOnFaultyDisk();
    await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'full' });
    await engine.startWorkflow({ workflowType: 'waiter', workflowId: 'fine' });
    await engine.waitForIdle();
    faulty.inject({ call: 'handle.write', code: 'ENOSPC', path: (f) => f.includes('full_') });

    // The signal is not acknowledged: the caller hears why.
    await expect(engine.signal({ workflowId: 'full' }, 'go', ['x'])).rejects.toThrow(
      /failed with ENOSPC \(the disk is full\)/,
    );
    await engine.waitForIdle();
    const { runs } = await engine.list();
    const full = runs.find((r) => r.workflowId === 'full')!;
    expect(full.status).toBe('RUNNING');
    expect(full.paused?.reason).toMatch(/ENOSPC/);
    expect(runs.find((r) => r.workflowId === 'fine')!.paused).toBeUndefined();
    expect(renderRunTable(runs, { color: false })).toMatch(/full\s+waiter\s+PAUSED/);
    expect(renderRunTable(runs, { color: false })).toMatch(/fine\s+waiter\s+RUNNING/);
    const described = await engine.describe({ workflowId: 'full' });
    expect(described.paused?.reason).toMatch(/ENOSPC/);
    expect(renderDescription(described, { color: false })).toMatch(/Status\s+PAUSED/);
    expect(paused).toEqual([['full', expect.stringMatching(/ENOSPC/)]]);

    // The other run goes on; the paused one keeps what it had acknowledged.
    await engine.signal({ workflowId: 'fine' }, 'go', ['y']);
    await engine.waitForIdle();
    expect(await engine.query({ workflowId: 'fine' }, 'state', [])).toEqual(['did y']);
    expect((await engine.history({ workflowId: 'full' })).map((e) => e.type)).not.toContain(
      'WorkflowSignaled',
    );
  });
});
