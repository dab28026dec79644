import * as Flags from '@oclif/core/flags';
import { inputFlag, runIdFlag, WfCommand, workflowIdFlag } from './base.js';

export class Signal extends WfCommand {
  static override summary = 'Send a signal to a workflow.';
  static override description =
    'Sends a signal to a running workflow. Each --input is one argument, as JSON.';
  static override examples = [
    `<%= config.bin %> signal --workflow-id order-1001 --name approve --input '"ada"'`,
  ];
  static override flags = {
    'workflow-id': workflowIdFlag,
    'run-id': runIdFlag,
    name: Flags.string({ description: 'Signal name.', required: true }),
    input: inputFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Signal);
    const { signalWorkflow } = await import('../client/operations.js');
    await signalWorkflow({
      address: flags.address,
      apiToken: flags['api-token'],
      workflowId: flags['workflow-id'],
      runId: flags['run-id'],
      name: flags.name,
      inputs: flags.input,
    });
    if (flags.output === 'json') this.printJson({ ok: true });
    else this.log(`Signal ${flags.name} sent to ${flags['workflow-id']}`);
  }
}
