/**
 * What `wf db` does: create or upgrade the PostgreSQL schema, and move a project from the file store
 * to PostgreSQL.
 *
 * Importing copies every run of a store directory copied into the
 * database with its history identical, event for event. Safe to run again (runs already there are
 * left alone, runs that grew since are completed), and it stops at nothing: a run that cannot be
 * imported is reported and the others still are.
 */

import { existsSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../common/errors.js';
import { FileHistoryStore } from './file-store.js';
import {
  connectionError,
  createPool,
  describeTarget,
  isPostgresUrl,
  redactUrl,
  targetOf,
} from './postgres/connection.js';
import { DEFAULT_SCHEMA, type MigrationReport, migrate } from './postgres/schema.js';
import { PostgresHistoryStore } from './postgres-store.js';
import type { HistoryStore, RunKey } from './store.js';

function requirePostgresUrl(url: string | undefined, command: string): string {
  if (!url) {
    throw new InvalidArgumentError(
      `${command} needs a database: pass --store postgres://USER@HOST:PORT/DATABASE or set DATABASE_URL`,
    );
  }
  if (!isPostgresUrl(url)) {
    throw new InvalidArgumentError(
      `${command} works on a PostgreSQL store: --store must be a postgres:// or postgresql:// URL, got ${JSON.stringify(redactUrl(url))}`,
    );
  }
  return url;
}

/** Creates or upgrades the store's schema in the database at `url`. Idempotent. */
export async function migrateDatabase(options: {
  url: string | undefined;
  schema?: string;
}): Promise<MigrationReport & { where: string }> {
  const url = requirePostgresUrl(options.url, 'wf db migrate');
  const target = targetOf(url);
  const pool = createPool(url, { max: 1 });
  try {
    const report = await migrate(pool, options.schema ?? DEFAULT_SCHEMA);
    return { ...report, where: describeTarget(target) };
  } catch (error) {
    throw connectionError(error, target) ?? error;
  } finally {
    await pool.end().catch(() => {});
  }
}

export interface ImportDirectoryOptions {
  /** The store directory to read (it is locked while reading: stop `wf dev` first). */
  dir: string;
  url: string | undefined;
  schema?: string;
  /** Create or upgrade the schema first. */
  migrate?: boolean;
  onRun?: (key: RunKey, outcome: 'created' | 'extended' | 'unchanged' | 'failed') => void;
}

/** Imports every run of a store directory into the database at `url`. */
export async function importStoreDirectory(
  options: ImportDirectoryOptions,
): Promise<ImportReport & { where: string }> {
  const url = requirePostgresUrl(options.url, 'wf db import');
  const dir = path.resolve(options.dir);
  if (!existsSync(path.join(dir, 'runs'))) {
    throw new InvalidArgumentError(
      `${dir} is not a wf store (it has no runs/ folder): pass the store directory, such as .wf`,
    );
  }
  const to = await PostgresHistoryStore.open({
    url,
    ...(options.schema ? { schema: options.schema } : {}),
    ...(options.migrate ? { migrate: true } : {}),
    poolSize: 2,
  });
  try {
    // The lock keeps a running wf dev from appending to the runs while they are copied.
    const from = await FileHistoryStore.open(dir);
    try {
      return { ...(await importHistories(from, to, options.onRun)), where: to.describe() };
    } finally {
      await from.close();
    }
  } finally {
    await to.close();
  }
}

export interface ImportProblem extends RunKey {
  message: string;
}

export interface ImportReport {
  /** Runs created in the database. */
  created: number;
  /** Runs the database held part of, now completed. */
  extended: number;
  /** Runs the database already held in full. */
  unchanged: number;
  /** Events written. */
  events: number;
  /** Runs that could not be imported (corrupt in the source, or different in the database). */
  problems: ImportProblem[];
}

/** Copies every run of `from` into `to`, oldest first. See the module comment. */
export async function importHistories(
  from: HistoryStore,
  to: PostgresHistoryStore,
  onRun?: (key: RunKey, outcome: 'created' | 'extended' | 'unchanged' | 'failed') => void,
): Promise<ImportReport> {
  const report: ImportReport = { created: 0, extended: 0, unchanged: 0, events: 0, problems: [] };
  // Oldest first, so a workflow ID's closed runs are in before its open one.
  const runs = (await from.listRuns()).reverse();
  for (const run of runs) {
    const key = { workflowId: run.workflowId, runId: run.runId };
    try {
      if (run.status === 'CORRUPT') {
        throw new Error(
          run.corruption
            ? `${run.corruption.file}:${run.corruption.line}: ${run.corruption.message}`
            : 'corrupt',
        );
      }
      const events = await from.readHistory(key);
      const { outcome, events: written } = await to.importRun(key, events);
      report[outcome]++;
      report.events += written;
      onRun?.(key, outcome);
    } catch (error) {
      report.problems.push({ ...key, message: error instanceof Error ? error.message : String(error) });
      onRun?.(key, 'failed');
    }
  }
  return report;
}
