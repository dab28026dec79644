/**
 * Records the histories the determinism tests replay. Run once after changing the base fixture:
 *
 *   npx tsx test/determinism/record.ts
 *
 * The tests also call `recordScenario` into a temporary directory and replay the result, so a
 * recording that no longer replays is caught even before the committed files are refreshed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serializeHistoryJsonl } from '../../src/history/codec.js';
import type { HistoryEvent } from '../../src/history/events.js';
import { TestWorkflowEnvironment } from '../../src/testing/index.js';
import * as activities from './fixtures/shared/activities.js';

export const HISTORIES_DIR = fileURLToPath(new URL('./histories/', import.meta.url));
export const RECORDING_START = Date.parse('2024-05-01T10:00:00.000Z');

/** The workflows entry of a fixture project under test/determinism/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}/src/workflows/index.ts`, import.meta.url));
}

/**
 * Runs `baseWorkflow` of a fixture the way the base history was recorded: start, let the hour-long
 * timer fire, send the approve signal, wait for the result. Returns the run's history.
 */
export async function recordScenario(fixtureName: string, workflowId = 'det-1'): Promise<HistoryEvent[]> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    workflowsPath: fixture(fixtureName),
    activities,
    startTime: RECORDING_START,
  });
  try {
    const handle = await env.client.start('baseWorkflow', { workflowId, args: ['order-7'] });
    await env.sleep('2 hours');
    // A variant that no longer waits for the approval may have finished already.
    if ((await handle.describe()).status === 'RUNNING') await handle.signal('approve', 'ada');
    await handle.result();
    return await env.history(workflowId);
  } finally {
    await env.teardown();
  }
}

/** The committed histories: file name → fixture recorded from. */
export const RECORDINGS = {
  'base.jsonl': 'base',
  'patched-added-activity.jsonl': 'patched-added-activity',
} as const;

export async function recordAll(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [file, fixtureName] of Object.entries(RECORDINGS)) {
    const events = await recordScenario(fixtureName);
    const path = join(dir, file);
    await writeFile(path, serializeHistoryJsonl(events));
    written.push(path);
  }
  return written;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const written = await recordAll(HISTORIES_DIR);
  for (const path of written) console.log(`recorded ${path}`);
}
