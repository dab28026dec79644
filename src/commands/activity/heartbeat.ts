import * as Flags from '@oclif/core/flags';
import { WfCommand } from '../base.js';
import { taskTokenFlag } from './complete.js';

export class ActivityHeartbeat extends WfCommand {
  static override summary = 'Heartbeat an activity that waits for async completion.';
  static override description =
    'Keeps the heartbeat timeout of an activity attempt that threw CompleteAsyncError from firing, by its task ' +
    'token. --details (JSON) reach a later attempt as activityInfo().heartbeatDetails.';
  static override examples = [
    `<%= config.bin %> activity heartbeat --task-token eyJ3ZiI6MSwid29ya2Zsb3dJZCI6... --details '{"reminded":2}'`,
  ];
  static override flags = {
    'task-token': taskTokenFlag,
    details: Flags.string({ char: 'd', description: 'Heartbeat details, as JSON.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ActivityHeartbeat);
    const { heartbeatActivityByToken } = await import('../../client/operations.js');
    await heartbeatActivityByToken({
      address: flags.address,
      apiToken: flags['api-token'],
      taskToken: flags['task-token'],
      details: flags.details,
    });
    if (flags.output === 'json') this.printJson({ ok: true });
    else this.log('Heartbeat recorded');
  }
}
