import { runIdFlag, WfCommand, workflowIdFlag } from './base.js';

export class Result extends WfCommand {
  static override summary = 'Wait for a workflow and print its result.';
  static override description =
    'Waits for the workflow to close, following continue-as-new, and prints its result. Exits with 1 if it ' +
    'failed, was cancelled, terminated or timed out.';
  static override examples = ['<%= config.bin %> result --workflow-id order-1001'];
  static override flags = { 'workflow-id': workflowIdFlag, 'run-id': runIdFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(Result);
    const { workflowResult } = await import('../client/operations.js');
    const result = await workflowResult({
      address: flags.address,
      apiToken: flags['api-token'],
      workflowId: flags['workflow-id'],
      runId: flags['run-id'],
    });
    if (flags.output === 'json') {
      this.printJson(result);
      return;
    }
    const { renderValue } = await import('../ui/render.js');
    this.log(renderValue(result));
  }
}
