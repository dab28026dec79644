// The floors measured in the same run as the figures: what no design can go under on this machine.
//   fdatasync of a small append   200 bytes appended to a file, then fdatasync (median of 300)
//   JSON.parse of JSON Lines      10,000 history-event lines split and parsed (median of 5)
//   node -e 0                     a bare Node process, spawned and awaited (median of 5)
import { spawnSync } from 'node:child_process';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { MemoryHistoryStore } from '../dist/history/memory-store.js';
import { WorkflowEngine } from '../dist/runtime/engine/index.js';
import { loadWorkflowCode } from '../dist/runtime/workflow-code.js';
import { ACTIVITIES, activities, execute, median, now, removeDir, row, tempDir, WORKFLOWS } from './lib.js';

async function fdatasyncFloor() {
  const dir = await tempDir('fsync');
  const handle = await open(join(dir, 'floor.jsonl'), 'a');
  try {
    const line = Buffer.from(`${JSON.stringify({ type: 'ActivityTaskCompleted', pad: 'x'.repeat(200) })}\n`);
    const bytes = line.subarray(0, 200);
    const times = [];
    for (let i = 0; i < 320; i++) {
      const start = now();
      await handle.write(bytes);
      await handle.datasync();
      if (i >= 20) times.push(now() - start);
    }
    return { median: median(times), bytes: bytes.length };
  } finally {
    await handle.close();
    await removeDir(dir);
  }
}

async function jsonLinesFloor() {
  // Real events: the history of a 50-step run, repeated to 10,000 lines.
  const code = await loadWorkflowCode({ workflowsPath: WORKFLOWS, activitiesPath: ACTIVITIES });
  const store = new MemoryHistoryStore();
  const engine = new WorkflowEngine({ store, code, activities });
  await execute(engine, 'steps', 'floor', [50]);
  const history = await store.readHistory((await store.latestRun('floor')) ?? {});
  await engine.shutdown();
  const lines = Array.from({ length: 10_000 }, (_, i) => JSON.stringify(history[i % history.length]));
  const text = lines.join('\n');
  const parse = () => {
    let n = 0;
    for (const l of text.split('\n')) if (JSON.parse(l)) n++;
    return n;
  };
  parse();
  const times = [];
  for (let i = 0; i < 5; i++) {
    const start = now();
    if (parse() !== lines.length) throw new Error('JSON Lines floor: wrong line count');
    times.push(now() - start);
  }
  const ms = median(times);
  return { eventsPerSecond: lines.length / (ms / 1000), mbPerSecond: text.length / 2 ** 20 / (ms / 1000) };
}

function nodeFloor() {
  const once = () => {
    const start = now();
    const r = spawnSync(process.execPath, ['-e', '0']);
    if (r.status !== 0) throw new Error(`node -e 0 exited with ${r.status}`);
    return now() - start;
  };
  once();
  return median(Array.from({ length: 5 }, once));
}

export async function floorsCase() {
  const sync = await fdatasyncFloor();
  const json = await jsonLinesFloor();
  const node = nodeFloor();
  return [
    row(`floor: fdatasync of a ${sync.bytes}-byte append (median of 300)`, sync.median, 'ms', {
      id: 'floor-fdatasync',
    }),
    row('floor: JSON.parse of JSON Lines (10,000 history events)', json.eventsPerSecond, 'events/s', {
      id: 'floor-json',
      detail: { mbPerSecond: json.mbPerSecond },
    }),
    row('floor: node -e 0 wall time (median of 5)', node, 'ms', { id: 'floor-node' }),
  ];
}
