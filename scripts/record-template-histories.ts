/**
 * Records the histories that `wf init` templates ship in test/histories/ (replayed by each template's
 * tests and by `wf replay` in its CI). Run after changing a template's workflow on purpose:
 *
 *   npx tsx scripts/record-template-histories.ts [template...]
 *
 * Activities are stand-ins with the real ones' shapes, so no template dependency (croner) is needed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '../src/client/client.js';
import { serializeHistoryJsonl } from '../src/history/codec.js';
import type { ActivityFunction } from '../src/runtime/engine/index.js';
import { TestWorkflowEnvironment } from '../src/testing/index.js';

const templatesDir = fileURLToPath(new URL('../templates/', import.meta.url));
const startTime = new Date('2025-01-06T08:30:00.000Z');

interface Recording {
  template: string;
  file: string;
  workflowType: string;
  workflowId: string;
  args: unknown[];
  activities: Record<string, ActivityFunction>;
  /** Drives the run (signals, cancel) before its result is awaited. */
  drive?: (handle: WorkflowHandle) => Promise<void>;
  /** Record the first run of a chain that continued as new (default: the last run). */
  firstRun?: boolean;
}

const trip = { tripId: 'trip-1', traveller: 'Ada Lovelace', destination: 'Lisbon', nights: 3 };
const tripActivities: Record<string, ActivityFunction> = {
  bookFlight: async (t: typeof trip) => ({ kind: 'flight', confirmation: `FL-${t.tripId}` }),
  bookHotel: async (t: typeof trip) => ({ kind: 'hotel', confirmation: `HT-${t.tripId}` }),
  bookCar: async (t: typeof trip) => {
    if (t.destination === 'Atlantis') {
      const { ApplicationFailure } = await import('../src/activity/index.js');
      throw ApplicationFailure.nonRetryable(`no cars available in ${t.destination}`, 'NoCarsAvailable');
    }
    return { kind: 'car', confirmation: `CR-${t.tripId}` };
  },
  cancelFlight: async () => undefined,
  cancelHotel: async () => undefined,
  cancelCar: async () => undefined,
};

const until = (check: () => Promise<boolean>) =>
  (async () => {
    while (!(await check())) await new Promise((r) => setTimeout(r, 5));
  })();

const approvalActivities: Record<string, ActivityFunction> = {
  draftProposal: async (r: { topic: string; requester: string }, comments: string[]) =>
    `Proposal v${comments.length + 1} for "${r.topic}" (requested by ${r.requester}).${
      comments.length ? ` Addressed: ${comments.join('; ')}.` : ''
    }`,
  sendProposal: async () => undefined,
  escalate: async () => undefined,
};
const approvalRequest = { requestId: 'approval-1', topic: 'Raise the Q3 ads budget', requester: 'ada' };
const awaiting = (handle: WorkflowHandle) =>
  until(async () => ((await handle.query('status')) as { state: string }).state === 'awaiting approval');

const RECORDINGS: Recording[] = [
  {
    template: 'saga',
    file: 'trip-booked.jsonl',
    workflowType: 'bookTrip',
    workflowId: 'trip-1',
    args: [trip],
    activities: tripActivities,
  },
  {
    template: 'saga',
    file: 'trip-compensated.jsonl',
    workflowType: 'bookTrip',
    workflowId: 'trip-2',
    args: [{ ...trip, tripId: 'trip-2', destination: 'Atlantis' }],
    activities: tripActivities,
  },
  {
    template: 'background-job',
    file: 'job-continued.jsonl',
    workflowType: 'processItems',
    workflowId: 'job-1',
    args: [{ jobId: 'job-1', totalItems: 40, batchSize: 10, batchesPerRun: 3 }],
    activities: {
      processBatch: async (b: { count: number }) => ({ processed: b.count }),
      cleanUp: async () => {},
    },
    firstRun: true,
  },
  {
    template: 'background-job',
    file: 'job-cancelled.jsonl',
    workflowType: 'processItems',
    workflowId: 'job-2',
    args: [{ jobId: 'job-2', totalItems: 100, batchSize: 10 }],
    activities: {
      processBatch: async (b: { offset: number; count: number }) => {
        if (b.offset === 20) {
          const { Context } = await import('../src/activity/index.js');
          await Context.current().cancelled.catch(() => undefined);
        }
        return { processed: b.count };
      },
      cleanUp: async () => {},
    },
    drive: async (handle) => {
      await until(async () => ((await handle.query('progress')) as { done: number }).done === 20);
      await handle.cancel('no longer needed');
    },
  },
  {
    template: 'approval',
    file: 'approval-approved.jsonl',
    workflowType: 'approvalWorkflow',
    workflowId: 'approval-1',
    args: [approvalRequest],
    activities: approvalActivities,
    drive: async (handle) => {
      await awaiting(handle);
      await handle.executeUpdate('requestChanges', { args: ['Cite the Q2 numbers'] });
      await handle.signal('approve', 'grace');
    },
  },
  {
    template: 'approval',
    file: 'approval-escalated.jsonl',
    workflowType: 'approvalWorkflow',
    workflowId: 'approval-2',
    args: [{ ...approvalRequest, requestId: 'approval-2' }],
    activities: approvalActivities,
  },
  {
    template: 'cron',
    file: 'cron-continued.jsonl',
    workflowType: 'cronWorkflow',
    workflowId: 'report-cron',
    args: [{ schedule: '0 * * * *', job: 'daily-report', maxRuns: 3, runsPerExecution: 2 }],
    activities: {
      // Hourly: the next full hour after `after`.
      nextFireTime: async (_schedule: string, after: string) =>
        new Date((Math.floor(Date.parse(after) / 3_600_000) + 1) * 3_600_000).toISOString(),
      runJob: async (job: string, scheduledFor: string) => `${job} for ${scheduledFor} done (attempt 1)`,
    },
    firstRun: true,
  },
];

async function record(recording: Recording): Promise<void> {
  const dir = join(templatesDir, recording.template);
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    workflowsPath: join(dir, 'src', 'workflows', 'index.ts'),
    activities: recording.activities,
    startTime,
  });
  try {
    const handle = await env.client.start(recording.workflowType, {
      workflowId: recording.workflowId,
      args: recording.args,
    });
    await recording.drive?.(handle);
    await handle.result().catch(() => undefined);
    const runId = recording.firstRun ? handle.firstExecutionRunId : undefined;
    const events = await env.history(recording.workflowId, runId);
    const out = join(dir, 'test', 'histories', recording.file);
    await mkdir(join(dir, 'test', 'histories'), { recursive: true });
    await writeFile(out, serializeHistoryJsonl(events));
    console.log(`${recording.template}/test/histories/${recording.file}: ${events.length} events`);
  } finally {
    await env.teardown();
  }
}

const only = process.argv.slice(2);
for (const recording of RECORDINGS) {
  if (only.length === 0 || only.includes(recording.template)) await record(recording);
}
