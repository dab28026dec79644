import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { LocalCommand } from '../base.js';

export class DbImport extends LocalCommand {
  static override summary = 'Copy every run of a store directory into a PostgreSQL store.';
  static override description =
    'Moves a project from the file store to PostgreSQL: each run is copied with its history identical, event for ' +
    'event, so `wf export` and `wf replay` give the same results from either store. Safe to run again: runs already ' +
    'in the database are left alone, runs that grew since are completed. Stop `wf dev` on the directory first. ' +
    'Open runs are left for the next `wf serve` on the database to take up.';
  static override examples = [
    '<%= config.bin %> db import .wf --store postgres://app@db:5432/app',
    '<%= config.bin %> db import .wf --store postgres://app@db:5432/app --migrate',
  ];
  static override args = {
    dir: Args.string({ description: 'The store directory to import (for example .wf).', required: true }),
  };
  static override flags = {
    store: Flags.string({
      description: 'The database: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE. Default: $DATABASE_URL.',
      env: 'DATABASE_URL',
    }),
    schema: Flags.string({ description: "Schema of wf's tables.", default: 'wf' }),
    migrate: Flags.boolean({ description: 'Create or upgrade the schema first (as wf db migrate).' }),
    output: Flags.option({ char: 'o', options: ['text', 'json'] as const, default: 'text' as const })(),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(DbImport);
    const { importStoreDirectory } = await import('../../history/db-admin.js');
    const report = await importStoreDirectory({
      dir: args.dir,
      url: flags.store,
      schema: flags.schema,
      migrate: flags.migrate,
    });
    if (flags.output === 'json') {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      this.log(
        `imported into ${report.where}: ${report.created} new runs, ${report.extended} completed, ${report.unchanged} already there (${report.events} events written)`,
      );
      for (const p of report.problems) {
        process.stderr.write(
          `not imported: workflow ${JSON.stringify(p.workflowId)} run ${p.runId}: ${p.message}\n`,
        );
      }
    }
    if (report.problems.length > 0) {
      process.stderr.write(`${report.problems.length} runs were not imported; the others were.\n`);
      process.exitCode = 1;
    }
  }
}
