/**
 * One way to open a store from what a user typed: a `postgres://` (or `postgresql://`) URL opens the
 * PostgreSQL store, anything else is a store directory. Used by every command that takes a store.
 */

import { existsSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, WorkflowNotFoundError } from '../common/errors.js';
import type { HistoryEvent } from './events.js';
import { FileHistoryStore } from './file-store.js';
import { isPostgresUrl, redactUrl } from './postgres/url.js';
import type { PostgresHistoryStore, PostgresHistoryStoreOptions } from './postgres-store.js';
import { RunNotFoundError } from './store.js';
import type { StoreFileSystem } from './store-fs.js';

export { isPostgresUrl, redactUrl } from './postgres/url.js';

export type OpenedStore =
  | { kind: 'file'; store: FileHistoryStore; where: string }
  | { kind: 'postgres'; store: PostgresHistoryStore; where: string };

export interface OpenStoreOptions {
  /** Resolve a directory against this (default: the current directory). */
  cwd?: string;
  /**
   * Only read: a directory store is opened without its lock (a running `wf dev` is not disturbed)
   * and must exist already.
   */
  readOnly?: boolean;
  /** PostgreSQL schema (default `wf`). */
  schema?: string;
  /** Create or upgrade the PostgreSQL schema on open (default: refuse one that is not migrated). */
  migrate?: boolean;
  /** Further PostgreSQL options (pool size, watch mode...). */
  postgres?: Omit<PostgresHistoryStoreOptions, 'url' | 'schema' | 'migrate'>;
  /** The flag the spec came from, for messages (default `--store`). */
  flag?: string;
  /** A directory store's file system (default node:fs): the torture suite injects disk faults. */
  fileSystem?: StoreFileSystem;
}

/**
 * The store a command should use: the flag's value, or else `DATABASE_URL` when the command reads
 * it (commands that only make sense with a database), or undefined.
 */
export function storeSpecFrom(
  flag: string | undefined,
  env: { DATABASE_URL?: string } = {},
): string | undefined {
  if (flag !== undefined && flag !== '') return flag;
  return env.DATABASE_URL || undefined;
}

/** Opens the store `spec` names. See the module comment. */
export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<OpenedStore> {
  const flag = options.flag ?? '--store';
  if (spec.trim() === '')
    throw new InvalidArgumentError(`${flag} is empty: give a store directory or a postgres:// URL`);
  if (isPostgresUrl(spec)) {
    // Loaded only when used: a project on the file store never pays for the driver.
    const { PostgresHistoryStore } = await import('./postgres-store.js');
    const store = await PostgresHistoryStore.open({
      ...options.postgres,
      url: spec,
      ...(options.schema ? { schema: options.schema } : {}),
      ...(options.migrate ? { migrate: true } : {}),
    });
    return { kind: 'postgres', store, where: `${redactUrl(spec)} (schema ${store.schema})` };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw new InvalidArgumentError(
      `${flag} ${redactUrl(spec)}: only postgres:// and postgresql:// URLs name a database store; anything else is a store directory`,
    );
  }
  const dir = path.resolve(options.cwd ?? process.cwd(), spec);
  if (options.readOnly && !existsSync(path.join(dir, 'runs'))) {
    throw new InvalidArgumentError(
      `${dir} is not a wf store (it has no runs/ folder): check ${flag} (a store directory such as .wf, or a postgres:// URL)`,
    );
  }
  const store = await FileHistoryStore.open(dir, {
    ...(options.readOnly ? { lock: false } : {}),
    ...(options.fileSystem ? { fs: options.fileSystem } : {}),
  });
  return { kind: 'file', store, where: dir };
}

/**
 * One run's history read straight from a store (read-only): the given run, or the latest run of
 * the workflow ID. Throws `WorkflowNotFoundError` when there is none.
 */
export async function readStoredHistory(
  spec: string,
  options: { workflowId: string; runId?: string; schema?: string; cwd?: string },
): Promise<HistoryEvent[]> {
  const { store } = await openStore(spec, {
    readOnly: true,
    ...(options.schema ? { schema: options.schema } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  try {
    const runId = options.runId ?? (await store.latestRun(options.workflowId))?.runId;
    if (runId === undefined) throw new WorkflowNotFoundError(options.workflowId);
    try {
      return await store.readHistory({ workflowId: options.workflowId, runId });
    } catch (error) {
      if (error instanceof RunNotFoundError) throw new WorkflowNotFoundError(options.workflowId, runId);
      throw error;
    }
  } finally {
    await store.close();
  }
}
