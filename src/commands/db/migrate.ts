import * as Flags from '@oclif/core/flags';
import { LocalCommand } from '../base.js';

export class DbMigrate extends LocalCommand {
  static override summary = "Create or upgrade wf's schema in a PostgreSQL database.";
  static override description =
    'Applies the versioned migrations the PostgreSQL store needs, in their own schema (wf unless --schema says ' +
    'otherwise). Safe to run again, and safe when several processes run it at once.';
  static override examples = [
    '<%= config.bin %> db migrate --store postgres://app@db:5432/app',
    'DATABASE_URL=postgres://app@db:5432/app <%= config.bin %> db migrate --schema wf_staging',
  ];
  static override flags = {
    store: Flags.string({
      description: 'The database: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE. Default: $DATABASE_URL.',
      env: 'DATABASE_URL',
    }),
    schema: Flags.string({ description: "Schema for wf's tables.", default: 'wf' }),
    output: Flags.option({ char: 'o', options: ['text', 'json'] as const, default: 'text' as const })(),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DbMigrate);
    const { migrateDatabase } = await import('../../history/db-admin.js');
    const report = await migrateDatabase({ url: flags.store, schema: flags.schema });
    if (flags.output === 'json') {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    if (report.applied.length === 0) {
      this.log(`schema ${report.schema} in ${report.where} is up to date (version ${report.version})`);
      return;
    }
    for (const m of report.applied) this.log(`applied migration ${m.version}: ${m.name}`);
    this.log(`schema ${report.schema} in ${report.where} is at version ${report.version}`);
  }
}
