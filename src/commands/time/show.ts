import { WfCommand } from '../base.js';

export class TimeShow extends WfCommand {
  static override summary = "Show the dev server's time and how far it was skipped.";
  static override description =
    'Prints the time workflows on the dev server see, and the offset `wf time skip` added to real time ' +
    '(kept in the store, so a restart keeps it).';
  static override examples = ['<%= config.bin %> time', '<%= config.bin %> time -o json'];

  async run(): Promise<void> {
    const { flags } = await this.parse(TimeShow);
    const { serverTime } = await import('../../client/operations.js');
    const info = await serverTime({ address: flags.address, apiToken: flags['api-token'] });
    if (flags.output === 'json') {
      this.printJson(info);
      return;
    }
    const { formatDuration } = await import('../../common/format-duration.js');
    this.log(`time:   ${info.now}`);
    this.log(
      `offset: ${info.offsetMs === 0 ? 'none (real time)' : `${formatDuration(info.offsetMs)} ahead of real time`}`,
    );
  }
}
