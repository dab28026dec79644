import * as Flags from '@oclif/core/flags';
import { inputFlag, WfCommand, workflowIdFlag } from './base.js';

/** Flags shared by `wf start` and `wf execute`. */
export const startFlags = {
  type: Flags.string({
    description: 'Workflow type: the name of an exported workflow function.',
    required: true,
  }),
  'workflow-id': workflowIdFlag,
  input: inputFlag,
  'id-reuse-policy': Flags.string({
    description:
      'When a closed run with this ID exists: ALLOW_DUPLICATE (default), ALLOW_DUPLICATE_FAILED_ONLY, REJECT_DUPLICATE.',
  }),
  'id-conflict-policy': Flags.string({
    description: 'When an open run with this ID exists: FAIL (default) or USE_EXISTING.',
  }),
  'run-timeout': Flags.string({
    description: "Fail the run with a timeout after this long, e.g. '30s', '2h'.",
  }),
  'cron-schedule': Flags.string({
    description:
      'Not supported: wf does not run cron workflows (use `wf schedule create`). Given, nothing starts.',
    hidden: true,
    aliases: ['cron'],
  }),
};

export class Start extends WfCommand {
  static override summary = 'Start a workflow.';
  static override description =
    'Starts a workflow on the dev server and prints its workflow ID and run ID without waiting for it. ' +
    'Each --input is one argument, as JSON.';
  static override examples = [
    `<%= config.bin %> start --type orderWorkflow --workflow-id order-1001 --input '{"orderId":"order-1001","amount":4999}'`,
    '<%= config.bin %> start --type greet --workflow-id g-1 --input \'"Ada"\' --input 3 --run-timeout 5m',
  ];
  static override flags = startFlags;

  async run(): Promise<void> {
    const { flags } = await this.parse(Start);
    const { startWorkflow } = await import('../client/operations.js');
    const started = await startWorkflow({
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
    if (flags.output === 'json') this.printJson(started);
    else this.log(`Started workflow ${started.workflowId} (run ${started.runId})`);
  }
}
