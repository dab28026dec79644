import type { ActivityLogRecord } from '../../activity/log.js';
import type { CallSite, NewEvent } from '../../history/events.js';
import type { HistoryStore, RunKey } from '../../history/store.js';
import type { Clock } from '../clock.js';
import type { WorkflowSandbox } from '../sandbox.js';

/** An activity implementation: any async function of JSON-serializable arguments. */
// biome-ignore lint/suspicious/noExplicitAny: any[] parameters let every concrete function type match, as in Temporal's SDK
export type ActivityFunction = (...args: any[]) => unknown;

/** The workflow code an engine runs; swappable (hot reload). */
export interface WorkflowCode {
  sandbox: WorkflowSandbox;
  resolveCallSite?: (stack: string) => CallSite | undefined;
}

export interface EngineLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface EngineOptions {
  store: HistoryStore;
  code: WorkflowCode;
  activities: Record<string, ActivityFunction>;
  clock?: Clock;
  /** Activities running at once; more wait their turn. Default 100. */
  maxConcurrentActivities?: number;
  /** Runs kept in memory; idle runs past this are evicted and rebuilt by replay when they wake. Default 1000. */
  maxCachedRuns?: number;
  logger?: EngineLogger;
  /** Receives activity code's `log` lines, each with its activity's context. Default: dropped. */
  activityLog?: (record: ActivityLogRecord) => void;
  /** Told when a run pauses (with the reason) or resumes (reason undefined): for live views. */
  onPauseChange?: (run: RunKey, reason: string | undefined) => void;
  /**
   * Sharing a store with other processes (a store that implements `SharedHistoryStore`, such as
   * PostgreSQL): how this process holds runs. Ignored for one-process stores.
   */
  cluster?: ClusterOptions;
}

export interface ClusterOptions {
  /** This process's name in leases. Default: a random ID. */
  owner?: string;
  /** How long a lease lasts without renewal; another process takes a run after that. Default 10 s. */
  leaseMs?: number;
  /** How often to look for due runs when no notification came. Default 500 ms. */
  pollMs?: number;
  /** Runs claimed per look. Default 50. */
  claimBatch?: number;
  /** The code this process runs (a hash of its bundle), recorded with each append. */
  buildId?: string;
}

/** One piece of work for a run's mailbox. */
export interface Work {
  /** Events that do not wake the workflow, recorded first (activity attempts, rejected updates). */
  info?: NewEvent[];
  /** The event that wakes the workflow. */
  input?: NewEvent;
  /** An event that closes the run from outside (terminate, run timeout). */
  close?: NewEvent;
  update?: { id: string; name: string; args: unknown[] };
  /** The inbox message this work came from (shared stores): consumed with the work's append. */
  inboxId?: number;
  /** Called once the work's events are durable, or with the error that stopped them. */
  done?: (error?: Error) => void;
}

export interface UpdateWaiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
}
