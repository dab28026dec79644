import * as Flags from '@oclif/core/flags';
import { inputFlag, WfCommand } from '../base.js';

export class ScheduleCreate extends WfCommand {
  static override summary = 'Create a schedule that starts a workflow at cron or interval times.';
  static override description =
    'The server keeps the schedule in its store and fires it on its clock (`wf time skip` moves it too): each fire ' +
    'starts the workflow as <workflow-id>-<fire time>, once, across restarts and servers. When the previous run is ' +
    'still open, the overlap policy decides: SKIP (default), BUFFER_ONE, BUFFER_ALL, CANCEL_OTHER, TERMINATE_OTHER, ' +
    'ALLOW_ALL. Times missed while no server ran are made up within the catch-up window (default 1 year).';
  static override examples = [
    `<%= config.bin %> schedule create -s nightly --cron '0 2 * * *' --type report --workflow-id report`,
    '<%= config.bin %> schedule create -s poll --interval 5m --type poll --workflow-id poll --overlap-policy BUFFER_ONE',
  ];
  static override flags = {
    'schedule-id': Flags.string({ char: 's', description: 'The schedule ID.', required: true }),
    cron: Flags.string({
      description: "A cron expression (UTC), e.g. '0 9 * * MON-FRI'. Repeatable.",
      multiple: true,
    }),
    interval: Flags.string({
      description: "An interval, EVERY or EVERY/OFFSET, e.g. '1h' or '1d/2h'. Repeatable.",
      multiple: true,
    }),
    type: Flags.string({ description: 'The workflow type to start.', required: true }),
    'workflow-id': Flags.string({
      char: 'w',
      description: 'The workflow ID prefix (the fire time is appended).',
      required: true,
    }),
    input: inputFlag,
    'overlap-policy': Flags.string({
      description: 'SKIP (default), BUFFER_ONE, BUFFER_ALL, CANCEL_OTHER, TERMINATE_OTHER, ALLOW_ALL.',
    }),
    'catchup-window': Flags.string({
      description: "How far back missed fires are made up, e.g. '1h'. Default: 1 year.",
    }),
    paused: Flags.boolean({ description: 'Create it paused.' }),
    note: Flags.string({ description: 'A note kept with its state.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ScheduleCreate);
    const { createSchedule } = await import('../../client/operations.js');
    const schedule = await createSchedule({
      address: flags.address,
      apiToken: flags['api-token'],
      scheduleId: flags['schedule-id'],
      cron: flags.cron,
      intervals: flags.interval,
      workflowType: flags.type,
      workflowId: flags['workflow-id'],
      inputs: flags.input,
      overlap: flags['overlap-policy'],
      catchupWindow: flags['catchup-window'],
      paused: flags.paused,
      note: flags.note,
    });
    if (flags.output === 'json') this.printJson(schedule);
    else
      this.log(
        `Created schedule ${schedule.scheduleId}; next: ${schedule.nextActionTimes.slice(0, 3).join(', ') || 'none (paused)'}`,
      );
  }
}
