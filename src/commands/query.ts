import * as Flags from '@oclif/core/flags';
import { inputFlag, runIdFlag, WfCommand, workflowIdFlag } from './base.js';

export class Query extends WfCommand {
  static override summary = "Query a workflow's state.";
  static override description =
    'Runs a query handler against the current state of a workflow and prints what it returns. Queries change nothing.';
  static override examples = ['<%= config.bin %> query --workflow-id order-1001 --name progress'];
  static override flags = {
    'workflow-id': workflowIdFlag,
    'run-id': runIdFlag,
    name: Flags.string({ description: 'Query name.', required: true }),
    input: inputFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Query);
    const { queryWorkflow } = await import('../client/operations.js');
    const { renderValue } = await import('../ui/render.js');
    const result = await queryWorkflow({
      address: flags.address,
      apiToken: flags['api-token'],
      workflowId: flags['workflow-id'],
      runId: flags['run-id'],
      name: flags.name,
      inputs: flags.input,
    });
    if (flags.output === 'json') this.printJson(result);
    else this.log(renderValue(result));
  }
}
