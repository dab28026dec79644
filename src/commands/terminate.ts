import * as Flags from '@oclif/core/flags';
import { runIdFlag, WfCommand, workflowIdFlag } from './base.js';

export class Terminate extends WfCommand {
  static override summary = 'Stop a workflow at once.';
  static override description =
    'Terminates the run: no more of its code runs and no cleanup happens. To let it clean up, use `wf cancel`.';
  static override examples = [
    '<%= config.bin %> terminate --workflow-id order-1001 --reason "stuck on a bad deploy"',
  ];
  static override flags = {
    'workflow-id': workflowIdFlag,
    'run-id': runIdFlag,
    reason: Flags.string({ description: 'Why, recorded in the history.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Terminate);
    const { terminateWorkflow } = await import('../client/operations.js');
    await terminateWorkflow({
      address: flags.address,
      apiToken: flags['api-token'],
      workflowId: flags['workflow-id'],
      runId: flags['run-id'],
      reason: flags.reason,
    });
    if (flags.output === 'json') this.printJson({ ok: true });
    else this.log(`Terminated ${flags['workflow-id']}`);
  }
}
