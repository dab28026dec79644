/**
 * PostgreSQL URLs: recognising them, reading where they point, and printing them without the
 * password. No driver here, so naming a store costs nothing until a database is used.
 */

import { InvalidArgumentError } from '../../common/errors.js';

/** Where a store URL points, for messages (never the password). */
export interface DatabaseTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

/** True for the URLs that name a PostgreSQL store. */
export function isPostgresUrl(spec: string): boolean {
  return /^postgres(ql)?:\/\//i.test(spec);
}

/** Reads host, port, database and user from a `postgres://` URL (defaults as libpq's). */
export function targetOf(url: string): DatabaseTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError(
      `${redactUrl(url)} is not a valid PostgreSQL URL: write it as postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`,
    );
  }
  const user = decodeURIComponent(parsed.username) || process.env.PGUSER || process.env.USER || 'postgres';
  const host = parsed.searchParams.get('host') ?? (decodeURIComponent(parsed.hostname) || 'localhost');
  return {
    host,
    port: Number(parsed.port || 5432),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || user,
    user,
  };
}

/** The URL with any password replaced by `***`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

export function describeTarget(t: DatabaseTarget): string {
  return `${t.host}:${t.port}/${t.database}`;
}
