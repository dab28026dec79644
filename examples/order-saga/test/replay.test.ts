import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { runReplayHistory } from 'wfkit/testing';

const workflowsPath = fileURLToPath(new URL('../src/workflows/index.ts', import.meta.url));
const histories = fileURLToPath(new URL('./histories/', import.meta.url));

// Histories recorded from earlier runs must replay against the current code: a change that breaks
// one would break runs in flight. `wf replay test/histories` checks the same from the command line.
describe('recorded order histories', () => {
  for (const file of readdirSync(histories).filter((f) => f.endsWith('.jsonl'))) {
    it(`replays ${file}`, async () => {
      await runReplayHistory({ workflowsPath }, `${histories}${file}`);
    });
  }
});
