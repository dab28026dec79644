import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryHistoryStore } from '../history/memory-store.js';
import { WorkflowEngine } from '../runtime/engine/index.js';
import { loadWorkflowCode } from '../runtime/workflow-code.js';
import { startHotReload } from './hot-reload.js';
import { resolveProject } from './project-config.js';

const version = (v: string) => `export async function hello(): Promise<string> {\n  return '${v}';\n}\n`;

describe('hot reload at start-up', () => {
  let dir = '';
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('picks up an edit saved while the server was starting (after its code was built, before the watcher was ready)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'wf-reload-'));
    await mkdir(join(dir, 'src/workflows'), { recursive: true });
    await writeFile(join(dir, 'src/workflows/index.ts'), version('v1'));
    const config = await resolveProject({ dir });
    const code = await loadWorkflowCode({ workflowsPath: config.workflowsPath, projectRoot: config.root });
    const engine = new WorkflowEngine({ store: new MemoryHistoryStore(), code, activities: {} });
    // Saved now: the engine runs v1, and the watcher about to start ignores files that exist already.
    await writeFile(join(dir, 'src/workflows/index.ts'), version('v2'));
    const lines: string[] = [];
    const reloader = await startHotReload({
      config,
      engine,
      out: (line) => lines.push(line),
      loadedCode: code.bundle.code,
      debounceMs: 5,
    });
    try {
      await expect.poll(() => lines.some((l) => l.startsWith('reloaded')), { timeout: 5000 }).toBe(true);
      await reloader.settled();
      await engine.startWorkflow({ workflowType: 'hello', workflowId: 'h-1' });
      expect(await engine.result({ workflowId: 'h-1' })).toEqual({ status: 'COMPLETED', result: 'v2' });
    } finally {
      await reloader.close();
      await engine.shutdown();
    }
  });
});
