import * as Flags from '@oclif/core/flags';
import { WfCommand } from '../base.js';
import { taskTokenFlag } from './complete.js';

export class ActivityFail extends WfCommand {
  static override summary = 'Fail an activity that waits for async completion.';
  static override description =
    'Records a failed attempt of an activity that threw CompleteAsyncError, by its task token: an ApplicationFailure ' +
    "with --message and --type. It is retried per the activity's retry policy unless --non-retryable (or its " +
    'type is in nonRetryableErrorTypes, or this was the last attempt); then the workflow sees an ActivityFailure.';
  static override examples = [
    `<%= config.bin %> activity fail --task-token eyJ3ZiI6MSwid29ya2Zsb3dJZCI6... --message 'approver is away' --type Away`,
    `<%= config.bin %> activity fail -t eyJ3ZiI6... --message 'request refused' --type Refused --non-retryable`,
  ];
  static override flags = {
    'task-token': taskTokenFlag,
    message: Flags.string({ char: 'm', description: 'The failure message.', required: true }),
    type: Flags.string({ description: 'The failure type (retry policies match it). Default: Error.' }),
    'non-retryable': Flags.boolean({ description: 'Stop retrying: the workflow sees the failure at once.' }),
    category: Flags.option({
      description: 'BENIGN: an expected failure, reported at a lower level.',
      options: ['BENIGN'] as const,
    })(),
    detail: Flags.string({
      description: 'A detail of the failure, as JSON. Repeat for several.',
      multiple: true,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ActivityFail);
    const { failActivityByToken } = await import('../../client/operations.js');
    await failActivityByToken({
      address: flags.address,
      apiToken: flags['api-token'],
      taskToken: flags['task-token'],
      message: flags.message,
      type: flags.type,
      nonRetryable: flags['non-retryable'],
      category: flags.category,
      details: flags.detail,
    });
    if (flags.output === 'json') this.printJson({ ok: true });
    else this.log('Activity attempt failed');
  }
}
