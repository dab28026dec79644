/**
 * Connecting to PostgreSQL: the pool, and errors a person can act on (which host and port could not
 * be reached, which user was refused, which database is missing) instead of the driver's codes.
 */

import pg from 'pg';
import { WfError } from '../../common/errors.js';
import { type DatabaseTarget, describeTarget } from './url.js';

export { type DatabaseTarget, describeTarget, isPostgresUrl, redactUrl, targetOf } from './url.js';

export interface PoolOptions {
  /** Most connections the pool opens (default 10). */
  max?: number;
  /** How long to wait for a connection before failing (default 10 s). */
  connectionTimeoutMs?: number;
  /** Name shown in pg_stat_activity (default "wf"). */
  applicationName?: string;
}

/**
 * A pool whose idle connections may die (a server restart, pg_terminate_backend) without taking the
 * process down: the pool drops them and opens new ones on the next query.
 */
export function createPool(url: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName ?? 'wf',
  });
  pool.on('error', () => {
    // An idle client lost its connection; the pool has already discarded it.
  });
  return pool;
}

/** PostgreSQL error codes (SQLSTATE) the store acts on. */
export const SQLSTATE = {
  uniqueViolation: '23505',
  invalidPassword: '28P01',
  invalidAuthorization: '28000',
  invalidCatalogName: '3D000',
  undefinedTable: '42P01',
  insufficientPrivilege: '42501',
  adminShutdown: '57P01',
  cannotConnectNow: '57P03',
  featureNotSupported: '0A000',
} as const;

export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Turns a failure to connect (or to be let in) into a WfError that says what to check. Returns
 * undefined for other errors, which callers rethrow as they are.
 */
export function connectionError(error: unknown, target: DatabaseTarget): WfError | undefined {
  const where = describeTarget(target);
  const code = sqlState(error);
  const message = error instanceof Error ? error.message : String(error);
  const cause = { cause: error };
  switch (code) {
    case 'ECONNREFUSED':
      return new WfError(
        'UNAVAILABLE',
        `cannot reach PostgreSQL at ${target.host}:${target.port} (connection refused): check that the server is running and listens on that host and port, and the URL given with --store or DATABASE_URL`,
        cause,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new WfError(
        'UNAVAILABLE',
        `cannot reach PostgreSQL: the host name ${JSON.stringify(target.host)} does not resolve: check the host in --store or DATABASE_URL`,
        cause,
      );
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new WfError(
        'UNAVAILABLE',
        `cannot reach PostgreSQL at ${target.host}:${target.port} (${code}): check the host and port, and that no firewall is in the way`,
        cause,
      );
    case SQLSTATE.invalidPassword:
    case SQLSTATE.invalidAuthorization:
      return new WfError(
        'UNAVAILABLE',
        `PostgreSQL at ${where} refused user ${JSON.stringify(target.user)}: ${message}. Check the user and password in the URL, and pg_hba.conf on the server`,
        cause,
      );
    case SQLSTATE.invalidCatalogName:
      return new WfError(
        'UNAVAILABLE',
        `PostgreSQL at ${target.host}:${target.port} has no database ${JSON.stringify(target.database)}: create it (createdb ${target.database}) or fix the database name in the URL`,
        cause,
      );
    case SQLSTATE.cannotConnectNow:
      return new WfError(
        'UNAVAILABLE',
        `PostgreSQL at ${where} is starting up or shutting down: try again in a moment`,
        cause,
      );
    default:
      break;
  }
  if (/password must be a string|SASL|password authentication/i.test(message)) {
    return new WfError(
      'UNAVAILABLE',
      `PostgreSQL at ${where} asks user ${JSON.stringify(target.user)} for a password the URL does not give: put it in the URL (postgres://USER:PASSWORD@HOST/DB) or in PGPASSWORD`,
      cause,
    );
  }
  if (
    /timeout exceeded when trying to connect|Connection terminated due to connection timeout/i.test(message)
  ) {
    return new WfError(
      'UNAVAILABLE',
      `cannot reach PostgreSQL at ${target.host}:${target.port}: no answer within the connection timeout; check the host and port, and that the server accepts connections`,
      cause,
    );
  }
  return undefined;
}
