import * as Flags from '@oclif/core/flags';
import { WfCommand } from '../base.js';

export const taskTokenFlag = Flags.string({
  char: 't',
  description: "The activity's task token in base64 (`activityInfo().base64TaskToken`).",
  required: true,
});

export class ActivityComplete extends WfCommand {
  static override summary = 'Complete an activity that waits for async completion.';
  static override description =
    'Records the result of an activity attempt that threw CompleteAsyncError, by its task token: the workflow ' +
    'awaiting the activity goes on with --result (JSON; default null). Refused when the attempt no longer waits ' +
    '(completed, failed, timed out or cancelled).';
  static override examples = [
    `<%= config.bin %> activity complete --task-token eyJ3ZiI6MSwid29ya2Zsb3dJZCI6... --result '{"approved":true}'`,
  ];
  static override flags = {
    'task-token': taskTokenFlag,
    result: Flags.string({ char: 'R', description: "The activity's result, as JSON. Default: null." }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ActivityComplete);
    const { completeActivityByToken } = await import('../../client/operations.js');
    await completeActivityByToken({
      address: flags.address,
      apiToken: flags['api-token'],
      taskToken: flags['task-token'],
      result: flags.result,
    });
    if (flags.output === 'json') this.printJson({ ok: true });
    else this.log('Activity completed');
  }
}
