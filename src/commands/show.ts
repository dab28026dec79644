import { runIdFlag, WfCommand, workflowIdFlag } from './base.js';

export class Show extends WfCommand {
  static override summary = "Show a workflow run's history as a timeline.";
  static override description =
    'Prints every event of the run: its id, the time since the run started, its type and what it says ' +
    '(activity and attempt, timer duration, signal, result or failure). With --output json, prints the raw ' +
    'events as JSON Lines, the format of history files.';
  static override examples = [
    '<%= config.bin %> show --workflow-id order-1001',
    '<%= config.bin %> show --workflow-id order-1001 --output json > order-1001.jsonl',
  ];
  static override flags = { 'workflow-id': workflowIdFlag, 'run-id': runIdFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(Show);
    const { workflowHistory } = await import('../client/operations.js');
    const events = await workflowHistory({
      address: flags.address,
      apiToken: flags['api-token'],
      workflowId: flags['workflow-id'],
      runId: flags['run-id'],
    });
    if (flags.output === 'json') {
      for (const event of events) this.printJson(event);
      return;
    }
    const { formatTimeline } = await import('../ui/timeline.js');
    this.log(formatTimeline(events, { color: this.color }));
  }
}
