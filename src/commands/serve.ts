import * as Flags from '@oclif/core/flags';
import { LocalCommand, projectFlags, serverFlags, serverOptionsOf } from './base.js';

export class Serve extends LocalCommand {
  static override summary =
    'Run the project in production: the HTTP API over a directory store, or over PostgreSQL shared by any number of servers.';
  static override description =
    'The same HTTP API, client and web UI as `wf dev`, without watching or the live view, logging JSON lines. With a store ' +
    'directory it is `wf dev` minus hot reload (one process). With a postgres:// URL (or DATABASE_URL) every `wf serve` ' +
    'on the same database shares the work: each run is held by one process under a lease, runs of a process that ' +
    'stops are taken over by the others, and any server answers for any run. SIGTERM hands back what it holds and ' +
    'exits. It listens on 127.0.0.1 unless --host says otherwise; on any other address an API token is required.';
  static override examples = [
    '<%= config.bin %> serve --store postgres://app@db:5432/app --migrate',
    'WF_API_TOKEN=s3cret <%= config.bin %> serve --store postgres://app@db:5432/app --host 0.0.0.0 --port 7466',
    '<%= config.bin %> serve --store .wf --port 8080',
  ];
  static override flags = {
    ...projectFlags,
    ...serverFlags,
    store: Flags.string({
      description:
        'Store: a directory, or a postgres:// URL shared by every server of the project. Default: DATABASE_URL, then .wf in the project.',
    }),
    port: Flags.integer({ description: 'Port of the HTTP API. Default: 7466.' }),
    host: Flags.string({
      description: 'Address to listen on. Default: 127.0.0.1. Any other address requires --api-token.',
      default: '127.0.0.1',
    }),
    'api-token': Flags.string({
      description:
        'Require this bearer token on every request (clients send it with --api-token / WF_API_TOKEN).',
      env: 'WF_API_TOKEN',
    }),
    migrate: Flags.boolean({
      description:
        "Create or upgrade the PostgreSQL schema on start (otherwise start refuses a schema that isn't current).",
    }),
    schema: Flags.string({ description: 'PostgreSQL schema of the store. Default: wf.' }),
    lease: Flags.string({
      description:
        'How long a run stays with this process without a renewal; after that another server takes it over. Default: 10s.',
    }),
    'log-format': Flags.option({
      description: 'json: one JSON object per line (default). text: plain lines.',
      options: ['json', 'text'] as const,
      default: 'json' as const,
    })(),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Serve);
    const { serveProject } = await import('../devserver/serve.js');
    await serveProject({
      ...(flags.project ? { dir: flags.project } : {}),
      ...(flags.workflows ? { workflows: flags.workflows } : {}),
      ...(flags.activities ? { activities: flags.activities } : {}),
      ...(flags.store
        ? { store: flags.store }
        : process.env.DATABASE_URL
          ? { store: process.env.DATABASE_URL }
          : {}),
      ...(flags.port !== undefined ? { port: flags.port } : {}),
      host: flags.host,
      ...serverOptionsOf(flags),
      ...(flags['api-token'] ? { apiToken: flags['api-token'] } : {}),
      migrate: flags.migrate,
      ...(flags.schema ? { schema: flags.schema } : {}),
      ...(flags.lease ? { lease: flags.lease } : {}),
      logFormat: flags['log-format'],
    });
  }
}
