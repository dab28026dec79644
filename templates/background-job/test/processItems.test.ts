import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Context } from 'wfkit/activity';
import { runReplayHistory, TestWorkflowEnvironment } from 'wfkit/testing';
import type { Batch } from '../src/activities/index.js';
import * as activities from '../src/activities/index.js';
import { type JobInput, processItems, progress } from '../src/workflows/index.js';

const workflowsPath = fileURLToPath(new URL('../src/workflows/index.ts', import.meta.url));
const historiesDir = fileURLToPath(new URL('./histories/', import.meta.url));

let env: TestWorkflowEnvironment | undefined;
afterEach(async () => {
  await env?.teardown();
  env = undefined;
});

describe('processItems', () => {
  it('processes every item in batches, heartbeating as it goes', async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ workflowsPath, activities });
    const input: JobInput = { jobId: 'job-1', totalItems: 25, batchSize: 10 };
    const result = await env.client.execute(processItems, { workflowId: 'job-1', args: [input] });
    expect(result).toEqual({ done: 25, total: 25 });
    const batches = (await env.history('job-1')).flatMap((e) =>
      e.type === 'ActivityTaskScheduled' ? [e.args[0] as Batch] : [],
    );
    expect(batches.map((b) => [b.offset, b.count])).toEqual([
      [0, 10],
      [10, 10],
      [20, 5],
    ]);
  });

  it('continues as new every batchesPerRun batches, so no run has a long history', async () => {
    const seen: number[] = [];
    env = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath,
      activities: {
        ...activities,
        processBatch: async (batch: Batch) => {
          seen.push(batch.offset);
          return { processed: batch.count };
        },
      },
    });
    const input: JobInput = { jobId: 'job-2', totalItems: 50, batchSize: 5, batchesPerRun: 3 };
    const handle = await env.client.start(processItems, { workflowId: 'job-2', args: [input] });
    expect(await handle.result()).toEqual({ done: 50, total: 50 });
    expect(seen).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45]);
    // The last run started from where the one before it stopped: 3 runs of 3 batches, then 1.
    const last = await env.history('job-2');
    expect(last[0]).toMatchObject({ type: 'WorkflowExecutionStarted', args: [{ ...input, done: 45 }] });
    expect(last.filter((e) => e.type === 'ActivityTaskScheduled')).toHaveLength(1);
  });

  it('reports progress through a query while it runs', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    env = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath,
      activities: {
        ...activities,
        processBatch: async (batch: Batch) => {
          if (batch.offset === 20) await gate;
          return { processed: batch.count };
        },
      },
    });
    const input: JobInput = { jobId: 'job-3', totalItems: 40, batchSize: 10 };
    const handle = await env.client.start(processItems, { workflowId: 'job-3', args: [input] });
    await expect.poll(() => handle.query(progress)).toEqual({ done: 20, total: 40 });
    release();
    expect(await handle.result()).toEqual({ done: 40, total: 40 });
  });

  it('stops cleanly when cancelled: the running batch is abandoned and cleanUp runs', async () => {
    const cleaned: { jobId: string; done: number }[] = [];
    let batchAborted = false;
    env = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath,
      activities: {
        ...activities,
        processBatch: async (batch: Batch) => {
          if (batch.offset === 10) {
            // Waits until the workflow is cancelled, as a long batch would.
            await Context.current().cancelled.catch(() => {
              batchAborted = true;
            });
          }
          return { processed: batch.count };
        },
        cleanUp: async (state: { jobId: string; done: number }) => {
          cleaned.push(state);
        },
      },
    });
    const input: JobInput = { jobId: 'job-4', totalItems: 100, batchSize: 10 };
    const handle = await env.client.start(processItems, { workflowId: 'job-4', args: [input] });
    await expect.poll(() => handle.query(progress)).toEqual({ done: 10, total: 100 });
    await handle.cancel('no longer needed');
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'WorkflowFailedError' });
    expect(cleaned).toEqual([{ jobId: 'job-4', done: 10 }]);
    await expect.poll(() => batchAborted).toBe(true);
    const types = (await env.history('job-4')).map((e) => e.type);
    expect(types.at(-1)).toBe('WorkflowExecutionCanceled');
  });

  it('replays the recorded history of a job that continued as new', async () => {
    await runReplayHistory({ workflowsPath }, `${historiesDir}job-continued.jsonl`);
  });

  it('replays the recorded history of a cancelled job', async () => {
    await runReplayHistory({ workflowsPath }, `${historiesDir}job-cancelled.jsonl`);
  });
});
