import { Flags } from '@oclif/core';
import { runIdFlag, WfCommand, workflowIdFlag } from './base.js';

export class Export extends WfCommand {
  static override summary = "Write a workflow run's history to a file, for `wf replay` and test fixtures.";
  static override description =
    'Fetches the history from the dev server and writes it as JSON Lines (history format v1), one event per line: ' +
    'readable, diffable and safe to commit next to the tests that replay it.';
  static override examples = [
    '<%= config.bin %> export --workflow-id order-1001 --file test/histories/order-1001.jsonl',
    '<%= config.bin %> export --workflow-id order-1001 > order-1001.jsonl',
  ];
  static override flags = {
    'workflow-id': workflowIdFlag,
    'run-id': runIdFlag,
    file: Flags.string({
      char: 'f',
      description: 'Write here instead of standard output (directories are created).',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Export);
    const { workflowHistory } = await import('../client/operations.js');
    const { serializeHistoryJsonl } = await import('../history/codec.js');
    const events = await workflowHistory({
      address: flags.address,
      workflowId: flags['workflow-id'],
      runId: flags['run-id'],
    });
    const text = serializeHistoryJsonl(events);
    if (!flags.file) {
      process.stdout.write(text);
      return;
    }
    const { mkdir, writeFile } = await import('node:fs/promises');
    const { dirname } = await import('node:path');
    await mkdir(dirname(flags.file), { recursive: true });
    await writeFile(flags.file, text);
    if (flags.output === 'json') this.printJson({ file: flags.file, events: events.length });
    else this.log(`wrote ${events.length} events to ${flags.file}`);
  }
}
