import { WfCommand } from '../base.js';

export class ScheduleList extends WfCommand {
  static override summary = 'List schedules.';
  static override examples = ['<%= config.bin %> schedule list', '<%= config.bin %> schedule list -o json'];

  async run(): Promise<void> {
    const { flags } = await this.parse(ScheduleList);
    const { listSchedules } = await import('../../client/operations.js');
    const schedules = await listSchedules({ address: flags.address, apiToken: flags['api-token'] });
    if (flags.output === 'json') {
      for (const schedule of schedules) this.printJson(schedule);
      return;
    }
    if (schedules.length === 0) {
      this.log('no schedules');
      return;
    }
    const { printable } = await import('../../common/printable.js');
    for (const s of schedules) {
      const when = [
        ...(s.spec.cronExpressions ?? []),
        ...(s.spec.intervals ?? []).map((i) => `every ${i.everyMs} ms`),
      ];
      this.log(
        printable(
          `${s.scheduleId}  ${s.state.paused ? 'PAUSED' : 'ACTIVE'}  ${s.action.workflowType}  ${when.join(' | ')}  next ${s.nextActionTimes[0] ?? '-'}`,
        ),
      );
    }
  }
}
