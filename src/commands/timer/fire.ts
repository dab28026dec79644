import * as Flags from '@oclif/core/flags';
import { runIdFlag, WfCommand, workflowIdFlag } from '../base.js';

export class TimerFire extends WfCommand {
  static override summary = "Fire one of a workflow's pending timers now.";
  static override description =
    "Fires a pending timer of the workflow's run at once instead of at its deadline: the earliest one, or the " +
    'one numbered --seq (`wf show` lists them). The workflow sees the time it fired at, and the history ' +
    'records it, so replay is exact. The clock of other runs does not move (see `wf time skip`).';
  static override examples = [
    '<%= config.bin %> timer fire --workflow-id approval-7',
    '<%= config.bin %> timer fire --workflow-id approval-7 --seq 3',
  ];
  static override flags = {
    'workflow-id': workflowIdFlag,
    'run-id': runIdFlag,
    seq: Flags.integer({
      description: "The timer's number (seq in `wf show`). Default: the earliest pending.",
      min: 0,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TimerFire);
    const { fireWorkflowTimer } = await import('../../client/operations.js');
    const fired = await fireWorkflowTimer({
      address: flags.address,
      apiToken: flags['api-token'],
      workflowId: flags['workflow-id'],
      runId: flags['run-id'],
      seq: flags.seq,
    });
    if (flags.output === 'json') {
      this.printJson(fired);
      return;
    }
    this.log(
      `Fired timer ${fired.seq} of ${fired.workflowId} at ${fired.firedAt} (it was due ${fired.fireAt})`,
    );
  }
}
