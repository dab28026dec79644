import * as Flags from '@oclif/core/flags';
import type { HistoryEvent } from '../history/events.js';
import { runIdFlag, WfCommand, workflowIdFlag } from './base.js';

export class Export extends WfCommand {
  static override summary = "Write a workflow run's history to a file, for `wf replay` and test fixtures.";
  static override description =
    'Fetches the history from the dev server (or, with --store, straight from a store directory or a PostgreSQL ' +
    'store) and writes it as JSON Lines (history format v1), one event per line: readable, diffable and safe to ' +
    'commit next to the tests that replay it. Every store exports the same bytes for the same history.';
  static override examples = [
    '<%= config.bin %> export --workflow-id order-1001 --file test/histories/order-1001.jsonl',
    '<%= config.bin %> export --workflow-id order-1001 > order-1001.jsonl',
    '<%= config.bin %> export --store postgres://app@db:5432/app --workflow-id order-1001 --file order-1001.jsonl',
  ];
  static override flags = {
    'workflow-id': workflowIdFlag,
    'run-id': runIdFlag,
    file: Flags.string({
      char: 'f',
      description: 'Write here instead of standard output (directories are created).',
    }),
    store: Flags.string({
      description:
        'Read the history from this store instead of the dev server (read-only): a store directory or a postgres:// URL.',
    }),
    schema: Flags.string({ description: 'PostgreSQL schema of the store given with --store. Default: wf.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Export);
    const { serializeHistoryJsonl } = await import('../history/codec.js');
    let events: HistoryEvent[];
    if (flags.store) {
      const { readStoredHistory } = await import('../history/open-store.js');
      events = await readStoredHistory(flags.store, {
        workflowId: flags['workflow-id'],
        ...(flags['run-id'] ? { runId: flags['run-id'] } : {}),
        ...(flags.schema ? { schema: flags.schema } : {}),
      });
    } else {
      const { workflowHistory } = await import('../client/operations.js');
      events = await workflowHistory({
        address: flags.address,
        apiToken: flags['api-token'],
        workflowId: flags['workflow-id'],
        runId: flags['run-id'],
      });
    }
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
