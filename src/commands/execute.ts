import { WfCommand } from './base.js';
import { startFlags } from './start.js';

export class Execute extends WfCommand {
  static override summary = 'Start a workflow and wait for its result.';
  static override description =
    'Starts a workflow on the dev server, waits for it to close (following continue-as-new) and prints its result. ' +
    'Exits with 1 if the workflow fails, is cancelled, terminated or times out.';
  static override examples = [
    `<%= config.bin %> execute --type orderWorkflow --workflow-id order-1001 --input '{"orderId":"order-1001","amount":4999}'`,
    '<%= config.bin %> execute --type greet --workflow-id g-1 --input \'"Ada"\' --output json',
  ];
  static override flags = startFlags;

  async run(): Promise<void> {
    const { flags } = await this.parse(Execute);
    const { executeWorkflow } = await import('../client/operations.js');
    const { renderValue } = await import('../ui/render.js');
    const done = await executeWorkflow({
      address: flags.address,
      apiToken: flags['api-token'],
      workflowType: flags.type,
      workflowId: flags['workflow-id'],
      inputs: flags.input,
      reusePolicy: flags['id-reuse-policy'],
      conflictPolicy: flags['id-conflict-policy'],
      runTimeout: flags['run-timeout'],
      cronSchedule: flags['cron-schedule'],
    });
    if (flags.output === 'json') this.printJson(done);
    else this.log(renderValue(done.result));
  }
}
