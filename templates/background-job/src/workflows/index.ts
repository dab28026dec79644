import {
  CancellationScope,
  continueAsNew,
  defineQuery,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
} from 'wfkit/workflow';
import type * as activities from '../activities/index.js';

const { processBatch } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10 minutes',
  // A batch that stops heartbeating (its worker died) is retried after 30 seconds, not 10 minutes.
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5 },
});

const { cleanUp } = proxyActivities<typeof activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10 },
});

/** A job: `totalItems` items processed `batchSize` at a time. */
export interface JobInput {
  jobId: string;
  totalItems: number;
  batchSize: number;
  /** Items done by earlier runs of this job (set when it continues as new). */
  done?: number;
  /** Batches per run before the job continues as new with a fresh history. Default 20. */
  batchesPerRun?: number;
}

export interface JobProgress {
  done: number;
  total: number;
}

/** How far the job is, for `wf query --name progress`. */
export const progress = defineQuery<JobProgress>('progress');

/**
 * Processes a long job in batches. Each batch is an activity that heartbeats, so a lost worker is
 * noticed in seconds. Every `batchesPerRun` batches the job continues as new, carrying only its
 * position, so its history stays short however many items there are. Cancelled (`wf cancel`), it
 * stops after the running batch is abandoned, runs `cleanUp` where cancellation cannot reach it, and
 * ends as cancelled.
 */
export async function processItems(input: JobInput): Promise<JobProgress> {
  const total = input.totalItems;
  const batchesPerRun = input.batchesPerRun ?? 20;
  let done = input.done ?? 0;
  setHandler(progress, () => ({ done, total }));
  try {
    for (let batch = 0; done < total; batch++) {
      if (batch === batchesPerRun) {
        log.info('continuing as new', { jobId: input.jobId, done });
        await continueAsNew<typeof processItems>({ ...input, done });
      }
      const count = Math.min(input.batchSize, total - done);
      await processBatch({ jobId: input.jobId, offset: done, count });
      done += count;
    }
    return { done, total };
  } catch (error) {
    if (isCancellation(error)) {
      log.warn('job cancelled, cleaning up', { jobId: input.jobId, done });
      await CancellationScope.nonCancellable(() => cleanUp({ jobId: input.jobId, done }));
    }
    throw error;
  }
}
