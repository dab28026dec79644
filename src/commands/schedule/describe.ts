import * as Flags from '@oclif/core/flags';
import { WfCommand } from '../base.js';

export class ScheduleDescribe extends WfCommand {
  static override summary =
    'Show a schedule: its spec, action, policies, state, recent actions and next times.';
  static override examples = ['<%= config.bin %> schedule describe -s nightly'];
  static override flags = {
    'schedule-id': Flags.string({ char: 's', description: 'The schedule ID.', required: true }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ScheduleDescribe);
    const { withSchedule } = await import('../../client/operations.js');
    const d = await withSchedule(
      { address: flags.address, apiToken: flags['api-token'], scheduleId: flags['schedule-id'] },
      (h) => h.describe(),
    );
    if (flags.output === 'json') {
      this.printJson(d);
      return;
    }
    const { printable } = await import('../../common/printable.js');
    this.log(
      printable(
        `Schedule     ${d.scheduleId} (${d.state.paused ? 'paused' : 'active'}${d.state.note ? `: ${d.state.note}` : ''})`,
      ),
    );
    this.log(printable(`Action       start ${d.action.workflowType} as ${d.action.workflowId}-<fire time>`));
    this.log(`Overlap      ${d.policies.overlap}`);
    this.log(`Next         ${d.nextActionTimes.join(', ') || '-'}`);
    for (const a of d.recentActions)
      this.log(
        printable(`  ${a.scheduledAt}  ${a.outcome}  ${a.workflowId}${a.message ? `  (${a.message})` : ''}`),
      );
  }
}
