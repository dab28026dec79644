import * as Flags from '@oclif/core/flags';
import { WfCommand } from './base.js';
import { startFlags } from './start.js';

export class SignalWithStart extends WfCommand {
  static override summary = 'Signal a workflow, starting it first if it is not running.';
  static override description =
    'Delivers the signal to the open run of the workflow ID; if there is none, starts the workflow (with --type ' +
    'and --input) and then delivers it. The signal is durable when the command returns.';
  static override examples = [
    `<%= config.bin %> signal-with-start --type cartWorkflow --workflow-id cart-42 --signal-name addItem --signal-input '{"sku":"A","qty":1}'`,
  ];
  static override flags = {
    ...startFlags,
    'signal-name': Flags.string({ description: 'Signal to deliver.', required: true }),
    'signal-input': Flags.string({
      description: 'A signal argument as JSON. Repeat for several arguments, in order.',
      multiple: true,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SignalWithStart);
    const { signalWithStartWorkflow } = await import('../client/operations.js');
    const done = await signalWithStartWorkflow({
      address: flags.address,
      apiToken: flags['api-token'],
      workflowType: flags.type,
      workflowId: flags['workflow-id'],
      inputs: flags.input,
      reusePolicy: flags['id-reuse-policy'],
      conflictPolicy: flags['id-conflict-policy'],
      runTimeout: flags['run-timeout'],
      cronSchedule: flags['cron-schedule'],
      signalName: flags['signal-name'],
      signalInputs: flags['signal-input'],
    });
    if (flags.output === 'json') this.printJson(done);
    else this.log(`Signal ${flags['signal-name']} sent to ${done.workflowId} (run ${done.runId})`);
  }
}
