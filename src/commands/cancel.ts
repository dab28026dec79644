import * as Flags from '@oclif/core/flags';
import { runIdFlag, WfCommand, workflowIdFlag } from './base.js';

export class Cancel extends WfCommand {
  static override summary = 'Ask a workflow to cancel.';
  static override description =
    'Requests cancellation: the workflow code sees a CancelledFailure and may clean up before it closes. ' +
    'To stop a run at once, use `wf terminate`.';
  static override examples = ['<%= config.bin %> cancel --workflow-id order-1001'];
  static override flags = {
    'workflow-id': workflowIdFlag,
    'run-id': runIdFlag,
    reason: Flags.string({ description: 'Why, recorded in the history.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Cancel);
    const { cancelWorkflow } = await import('../client/operations.js');
    await cancelWorkflow({
      address: flags.address,
      apiToken: flags['api-token'],
      workflowId: flags['workflow-id'],
      runId: flags['run-id'],
      reason: flags.reason,
    });
    if (flags.output === 'json') this.printJson({ ok: true });
    else this.log(`Cancellation requested for ${flags['workflow-id']}`);
  }
}
