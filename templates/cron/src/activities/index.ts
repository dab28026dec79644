import { Cron } from 'croner';
import { ApplicationFailure, Context } from 'wfkit/activity';

/** The first time after `afterIso` that `schedule` fires, as an ISO string. */
export async function nextFireTime(schedule: string, afterIso: string, timezone: string): Promise<string> {
  let cron: Cron;
  try {
    cron = new Cron(schedule, { timezone, paused: true });
  } catch (error) {
    throw ApplicationFailure.nonRetryable(
      `invalid cron expression ${JSON.stringify(schedule)}: ${(error as Error).message}`,
      'InvalidSchedule',
    );
  }
  const next = cron.nextRun(new Date(afterIso));
  if (!next)
    throw ApplicationFailure.nonRetryable(`${schedule} never fires after ${afterIso}`, 'InvalidSchedule');
  return next.toISOString();
}

/** The scheduled work. Replace with yours; throw to fail the attempt (it is retried with backoff). */
export async function runJob(job: string, scheduledFor: string): Promise<string> {
  const { attempt } = Context.current().info;
  return `${job} for ${scheduledFor} done (attempt ${attempt})`;
}
