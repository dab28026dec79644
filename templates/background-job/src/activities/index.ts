import { Context } from 'wfkit/activity';

export interface Batch {
  jobId: string;
  /** Index of the batch's first item. */
  offset: number;
  count: number;
}

/**
 * Processes one batch, heartbeating after each item. A retried attempt resumes after the last item
 * the previous attempt reported, and a cancelled batch stops between items.
 */
export async function processBatch(batch: Batch): Promise<{ processed: number }> {
  const context = Context.current();
  const resumeAt = typeof context.info.heartbeatDetails === 'number' ? context.info.heartbeatDetails : 0;
  for (let i = resumeAt; i < batch.count; i++) {
    context.cancellationSignal.throwIfAborted();
    await processItem(batch.jobId, batch.offset + i);
    context.heartbeat(i + 1);
  }
  return { processed: batch.count };
}

/** Replace with the real work on one item. Here: 50 ms of pretend work, cut short by cancellation. */
async function processItem(jobId: string, index: number): Promise<void> {
  void jobId;
  void index;
  await Context.current().sleep('50 ms');
}

/** Releases what the job holds (locks, temp files) once it is cancelled. */
export async function cleanUp(state: { jobId: string; done: number }): Promise<void> {
  void state;
}
