import { parseDuration } from '../common/duration.js';
import { InvalidArgumentError } from '../common/errors.js';
import { jsonReporter, plainReporter } from './dev-reporter.js';
import { type DevServer, startDevServer } from './dev-server.js';
import { bufferedLines } from './line-buffer.js';
import { resolveProject } from './project-config.js';

export interface ServeOptions {
  dir?: string;
  workflows?: string;
  activities?: string;
  store?: string;
  port?: number;
  /** Also serve `GET /metrics` alone on this port (same host and token). */
  metricsPort?: number;
  /** Export OpenTelemetry traces even when no `OTEL_*` variable asks for it. */
  otel?: boolean;
  host: string;
  apiToken?: string;
  migrate?: boolean;
  schema?: string;
  /** Lease duration, e.g. '10s'. */
  lease?: string;
  logFormat: 'json' | 'text';
  maxCachedRuns?: number;
  maxConcurrentActivities?: number;
  /** Where log lines go. Default: stdout. */
  write?: (line: string) => void;
  /** Resolves to stop the server; default: the first SIGTERM or SIGINT. */
  stopSignal?: Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * `wf serve`: the project's engine and HTTP API until SIGTERM, then a graceful stop (in-flight
 * appends finish, held runs are handed back to the other servers). Refuses to listen off loopback
 * without an API token.
 */
export async function serveProject(options: ServeOptions): Promise<void> {
  if (!isLoopbackHost(options.host) && !options.apiToken) {
    throw new InvalidArgumentError(
      `refusing to listen on ${options.host} without an API token: anyone who can reach that address could run ` +
        'and read your workflows. Set WF_API_TOKEN (or --api-token) to a long random secret, and give clients the same.',
    );
  }
  if (options.apiToken !== undefined && options.apiToken.length < 16) {
    throw new InvalidArgumentError(
      'the API token is too short to be a secret: use at least 16 characters (e.g. `openssl rand -hex 24`)',
    );
  }
  const leaseMs = options.lease === undefined ? undefined : parseDuration(options.lease, '--lease');
  if (leaseMs !== undefined && leaseMs < 500) {
    throw new InvalidArgumentError(
      `--lease ${options.lease} is too short: at least 500ms (renewals are sent every third of it)`,
    );
  }
  const config = await resolveProject({
    ...(options.dir ? { dir: options.dir } : {}),
    ...(options.workflows ? { workflows: options.workflows } : {}),
    ...(options.activities ? { activities: options.activities } : {}),
    ...(options.store ? { store: options.store } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  const write = options.write ?? bufferedLines((text) => process.stdout.write(text));
  const reporter = options.logFormat === 'json' ? jsonReporter(write) : plainReporter(write);
  const server: DevServer = await startDevServer({
    config,
    watch: false,
    reporter,
    name: 'wf serve',
    host: options.host,
    ...(options.metricsPort !== undefined ? { metricsPort: options.metricsPort } : {}),
    ...(options.otel ? { otel: true } : {}),
    ...(options.apiToken ? { apiToken: options.apiToken } : {}),
    ...(options.migrate ? { migrate: true } : {}),
    ...(options.schema ? { schema: options.schema } : {}),
    ...(leaseMs === undefined ? {} : { cluster: { leaseMs } }),
    ...(options.maxCachedRuns ? { maxCachedRuns: options.maxCachedRuns } : {}),
    ...(options.maxConcurrentActivities ? { maxConcurrentActivities: options.maxConcurrentActivities } : {}),
  });
  await (options.stopSignal ?? firstStopSignal());
  reporter.message('info', 'stopping: handing back the runs this server holds');
  await server.close();
  reporter.message('info', 'stopped');
  // Activities that ignore their cancellation signal would keep the process alive: exit once output drains.
  setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
}

function firstStopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
