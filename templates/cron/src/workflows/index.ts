import {
  continueAsNew,
  defineQuery,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
} from 'wfkit/workflow';
import type * as activities from '../activities/index.js';

const { nextFireTime } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidSchedule'] },
});

const { runJob } = proxyActivities<typeof activities>({
  startToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '10 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 4,
  },
});

/** A job on a schedule. */
export interface CronInput {
  /** A cron expression: `m h dom mon dow`, e.g. `0 9 * * 1-5` for 09:00 on weekdays. */
  schedule: string;
  /** What to run; passed to the `runJob` activity. */
  job: string;
  /** IANA time zone of the schedule. Default UTC. */
  timezone?: string;
  /** Stop after this many runs in all. Default: never. */
  maxRuns?: number;
  /** Runs per workflow run before it continues as new with a fresh history. Default 10. */
  runsPerExecution?: number;
  // Carried across continue-as-new:
  after?: string;
  runsSoFar?: number;
  recent?: RunRecord[];
}

/** The outcome of one scheduled run. */
export interface RunRecord {
  scheduledFor: string;
  ok: boolean;
  result?: string;
  error?: string;
}

export interface CronSummary {
  runs: number;
  recent: RunRecord[];
}

/** The last outcomes, newest last: `wf query --name recentRuns`. */
export const recentRuns = defineQuery<RunRecord[]>('recentRuns');

const KEEP_RECENT = 10;

/**
 * Runs `job` on a cron schedule. The next fire time comes from an activity (a cron parser is host
 * code, and its answer is recorded, so replays see the same times); the wait is a durable timer;
 * the job is retried with exponential backoff and its final outcome, success or failure, is
 * recorded. Every `runsPerExecution` runs it continues as new, carrying its position.
 */
export async function cronWorkflow(input: CronInput): Promise<CronSummary> {
  const recent = [...(input.recent ?? [])];
  let runs = input.runsSoFar ?? 0;
  // Date is deterministic in workflow code: the time of the current workflow task.
  let after = input.after ?? new Date().toISOString();
  setHandler(recentRuns, () => recent);
  const done = () => input.maxRuns !== undefined && runs >= input.maxRuns;
  for (let i = 0; i < (input.runsPerExecution ?? 10) && !done(); i++) {
    const fireAt = await nextFireTime(input.schedule, after, input.timezone ?? 'UTC');
    const wait = Date.parse(fireAt) - Date.now();
    if (wait > 0) await sleep(wait);
    try {
      const result = await runJob(input.job, fireAt);
      recent.push({ scheduledFor: fireAt, ok: true, result });
    } catch (error) {
      if (isCancellation(error)) throw error;
      const cause = (error as Error).cause as Error | undefined;
      const message = cause?.message ?? (error as Error).message;
      log.error('job failed after its retries', { job: input.job, scheduledFor: fireAt, error: message });
      recent.push({ scheduledFor: fireAt, ok: false, error: message });
    }
    recent.splice(0, Math.max(0, recent.length - KEEP_RECENT));
    runs++;
    after = fireAt;
  }
  if (done()) return { runs, recent };
  return continueAsNew<typeof cronWorkflow>({ ...input, after, runsSoFar: runs, recent });
}
