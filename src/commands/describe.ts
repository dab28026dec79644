import { runIdFlag, WfCommand, workflowIdFlag } from './base.js';

export class Describe extends WfCommand {
  static override summary = 'Show the status of a workflow run.';
  static override description =
    'Shows a run: type, status, times, history length, and the activities and timers it is waiting on.';
  static override examples = ['<%= config.bin %> describe --workflow-id order-1001'];
  static override flags = { 'workflow-id': workflowIdFlag, 'run-id': runIdFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(Describe);
    const { describeWorkflow } = await import('../client/operations.js');
    const description = await describeWorkflow({
      address: flags.address,
      apiToken: flags['api-token'],
      workflowId: flags['workflow-id'],
      runId: flags['run-id'],
    });
    if (flags.output === 'json') {
      this.printJson(description);
      return;
    }
    const { renderDescription } = await import('../ui/render.js');
    this.log(renderDescription(description, { color: this.color }));
  }
}
