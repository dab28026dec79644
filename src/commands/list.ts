import * as Flags from '@oclif/core/flags';
import { WfCommand } from './base.js';

export class List extends WfCommand {
  static override summary = 'List workflow runs.';
  static override description = 'Lists runs on the dev server, newest first.';
  static override examples = [
    '<%= config.bin %> list',
    '<%= config.bin %> list --status running --type orderWorkflow',
    '<%= config.bin %> list --limit 500 --output json',
    '<%= config.bin %> list --query \'CustomerId = "c-1" AND ExecutionStatus = "Running"\'',
  ];
  static override flags = {
    status: Flags.string({
      description:
        'Only runs with this status: RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW, CORRUPT.',
    }),
    type: Flags.string({ description: 'Only runs of this workflow type.' }),
    'workflow-id': Flags.string({ char: 'w', description: 'Only runs of this workflow ID.' }),
    limit: Flags.integer({ description: 'Show at most this many runs.', default: 100, min: 1 }),
    query: Flags.string({
      char: 'q',
      description:
        "A filter in Temporal's list syntax: =, !=, <, <=, >, >=, IN (...), STARTS_WITH, AND, OR, NOT, parentheses, over WorkflowId, WorkflowType, ExecutionStatus, StartTime, CloseTime and search attributes.",
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(List);
    const { listWorkflows } = await import('../client/operations.js');
    const { runs, more } = await listWorkflows({
      address: flags.address,
      apiToken: flags['api-token'],
      status: flags.status,
      workflowType: flags.type,
      workflowId: flags['workflow-id'],
      query: flags.query,
      limit: flags.limit,
    });
    if (flags.output === 'json') {
      for (const run of runs) this.printJson(run);
      return;
    }
    const { renderRunTable } = await import('../ui/render.js');
    this.log(renderRunTable(runs, { color: this.color }));
    if (more) process.stderr.write(`(first ${flags.limit} shown; use --limit N for more)\n`);
  }
}
