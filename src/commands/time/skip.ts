import * as Args from '@oclif/core/args';
import { WfCommand } from '../base.js';

export class TimeSkip extends WfCommand {
  static override summary = "Move the dev server's clock forward.";
  static override description =
    'Skips the dev server clock forward by DURATION: workflows see the new time, and every timer, retry ' +
    'backoff and timeout due by then fires at once, in deadline order. The offset is kept in the store, so ' +
    'a restart keeps it; time never goes back. Histories record the time each workflow saw, so they replay exactly.';
  static override examples = [
    '<%= config.bin %> time skip 3d',
    "<%= config.bin %> time skip '2 hours'",
    '<%= config.bin %> time skip 90m',
  ];
  static override args = {
    duration: Args.string({
      description: "How far: '3d', '2 hours', '90m', '45s' or milliseconds.",
      required: true,
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TimeSkip);
    const { skipServerTime } = await import('../../client/operations.js');
    const info = await skipServerTime({
      address: flags.address,
      apiToken: flags['api-token'],
      duration: args.duration,
    });
    if (flags.output === 'json') {
      this.printJson(info);
      return;
    }
    const { formatDuration } = await import('../../common/format-duration.js');
    this.log(
      `Skipped ${args.duration}: the dev server's time is ${info.now} (${formatDuration(info.offsetMs)} ahead of real time)`,
    );
  }
}
