import * as Flags from '@oclif/core/flags';
import { WfCommand } from '../base.js';

const scheduleIdFlag = Flags.string({ char: 's', description: 'The schedule ID.', required: true });

export class SchedulePause extends WfCommand {
  static override summary = 'Pause a schedule (it fires again after unpause; missed times are not made up).';
  static override flags = { 'schedule-id': scheduleIdFlag, note: Flags.string({ description: 'Why.' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(SchedulePause);
    const { withSchedule } = await import('../../client/operations.js');
    await withSchedule(
      { address: flags.address, apiToken: flags['api-token'], scheduleId: flags['schedule-id'] },
      (h) => h.pause(flags.note),
    );
    this.log(`Paused schedule ${flags['schedule-id']}`);
  }
}

export class ScheduleUnpause extends WfCommand {
  static override summary = 'Unpause a schedule.';
  static override flags = { 'schedule-id': scheduleIdFlag, note: Flags.string({ description: 'Why.' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(ScheduleUnpause);
    const { withSchedule } = await import('../../client/operations.js');
    await withSchedule(
      { address: flags.address, apiToken: flags['api-token'], scheduleId: flags['schedule-id'] },
      (h) => h.unpause(flags.note),
    );
    this.log(`Unpaused schedule ${flags['schedule-id']}`);
  }
}

export class ScheduleTrigger extends WfCommand {
  static override summary = "Take a schedule's action now.";
  static override flags = {
    'schedule-id': scheduleIdFlag,
    'overlap-policy': Flags.string({
      description: "Override the schedule's overlap policy for this action.",
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ScheduleTrigger);
    const { parseOverlapPolicy, withSchedule } = await import('../../client/operations.js');
    const overlap = parseOverlapPolicy(flags['overlap-policy']);
    const result = await withSchedule(
      { address: flags.address, apiToken: flags['api-token'], scheduleId: flags['schedule-id'] },
      (h) => h.trigger(overlap),
    );
    if (flags.output === 'json') this.printJson(result);
    else this.log(`${result.outcome}: ${result.workflowId}${result.message ? ` (${result.message})` : ''}`);
  }
}

export class ScheduleBackfill extends WfCommand {
  static override summary = "Take a schedule's action for every fire time in a past range.";
  static override examples = [
    '<%= config.bin %> schedule backfill -s nightly --start-time 2026-01-01T00:00:00Z --end-time 2026-01-08T00:00:00Z',
  ];
  static override flags = {
    'schedule-id': scheduleIdFlag,
    'start-time': Flags.string({ description: 'ISO time the range starts.', required: true }),
    'end-time': Flags.string({ description: 'ISO time the range ends.', required: true }),
    'overlap-policy': Flags.string({
      description: "Override the schedule's overlap policy for these actions.",
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ScheduleBackfill);
    const { parseOverlapPolicy, withSchedule } = await import('../../client/operations.js');
    const overlap = parseOverlapPolicy(flags['overlap-policy']);
    const results = await withSchedule(
      { address: flags.address, apiToken: flags['api-token'], scheduleId: flags['schedule-id'] },
      (h) =>
        h.backfill([{ start: flags['start-time'], end: flags['end-time'], ...(overlap ? { overlap } : {}) }]),
    );
    if (flags.output === 'json') {
      for (const r of results) this.printJson(r);
      return;
    }
    for (const r of results) this.log(`${r.scheduledAt}  ${r.outcome}  ${r.workflowId}`);
  }
}

export class ScheduleDelete extends WfCommand {
  static override summary = 'Delete a schedule (the runs it started go on).';
  static override flags = { 'schedule-id': scheduleIdFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(ScheduleDelete);
    const { withSchedule } = await import('../../client/operations.js');
    await withSchedule(
      { address: flags.address, apiToken: flags['api-token'], scheduleId: flags['schedule-id'] },
      (h) => h.delete(),
    );
    this.log(`Deleted schedule ${flags['schedule-id']}`);
  }
}
