import * as Flags from '@oclif/core/flags';
import { inputFlag, runIdFlag, WfCommand, workflowIdFlag } from './base.js';

export class Update extends WfCommand {
  static override summary = 'Run an update on a workflow and print its result.';
  static override description =
    'Sends an update to a running workflow, waits for its handler to finish and prints its result. ' +
    'Each --input is one argument, as JSON.';
  static override examples = [
    '<%= config.bin %> update --workflow-id order-1001 --name setDiscount --input 10',
  ];
  static override flags = {
    'workflow-id': workflowIdFlag,
    'run-id': runIdFlag,
    name: Flags.string({ description: 'Update name.', required: true }),
    input: inputFlag,
    'update-id': Flags.string({
      description: 'Update ID, to make a retried update run once. Default: a new one.',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Update);
    const { updateWorkflow } = await import('../client/operations.js');
    const { renderValue } = await import('../ui/render.js');
    const result = await updateWorkflow({
      address: flags.address,
      apiToken: flags['api-token'],
      workflowId: flags['workflow-id'],
      runId: flags['run-id'],
      name: flags.name,
      inputs: flags.input,
      updateId: flags['update-id'],
    });
    if (flags.output === 'json') this.printJson(result);
    else this.log(renderValue(result));
  }
}
