import type { ActivityLogRecord } from '../../activity/log.js';
import type { CallSite, FailureInfo, NewEvent, TraceHeader } from '../../history/events.js';
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
  /** Activities running at once; more wait their turn. Default DEFAULT_MAX_CONCURRENT_ACTIVITIES (100). */
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
  /** Receives counts and timings for metrics. Default: none kept. */
  metrics?: EngineMetrics;
  /** Receives finished spans (OpenTelemetry traces). Default: none made. */
  tracing?: EngineTracing;
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
  update?: { id: string; name: string; args: unknown[]; header?: TraceHeader };
  /** The inbox message this work came from (shared stores): consumed with the work's append. */
  inboxId?: number;
  /** Called once the work's events are durable, or with the error that stopped them. */
  done?: (error?: Error) => void;
}

export interface UpdateWaiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** How a run ended, as the metrics name it (Temporal's spelling). */
export type ClosedRunOutcome =
  | 'completed'
  | 'failed'
  | 'canceled'
  | 'terminated'
  | 'timed_out'
  | 'continued_as_new';

/** How one activity attempt ended. */
export type ActivityAttemptOutcome = 'completed' | 'failed' | 'timed_out' | 'canceled';

/** Why a run paused. */
export type PauseReason = 'nondeterminism' | 'deadlock' | 'store';

/** What the engine holds right now, read when metrics are scraped. */
export interface EngineGauges {
  /** Open runs this process holds. */
  openRuns: number;
  pausedRuns: number;
  /** Open runs whose executor is in memory; the rest were evicted (rebuilt by replay when they wake). */
  cachedRuns: number;
  pendingTimers: number;
  /** Activity attempts running now (or waiting for async completion) in this process. */
  runningActivities: number;
}

/**
 * Where the engine reports what happened, for metrics (the dev server fills it with prom-client).
 * Everything about a run's history is reported once its events are durable, so a step rebuilt by
 * replay is never reported again. Labels are bounded: types and outcomes, never IDs.
 */
export interface EngineMetrics {
  workflowStarted(workflowType: string): void;
  /** `historyLength` is the number of events in the closed run's history. */
  workflowClosed(workflowType: string, outcome: ClosedRunOutcome, historyLength: number): void;
  /** One activation of new work (not a replay): the workflow code's time, before the append. */
  workflowActivated(workflowType: string, seconds: number): void;
  /** A run's executor was rebuilt from its history (after an eviction, a restart or a reload). */
  workflowReplayed(workflowType: string, seconds: number): void;
  workflowEvicted(workflowType: string): void;
  workflowPaused(workflowType: string, reason: PauseReason): void;
  signalReceived(workflowType: string): void;
  updateHandled(workflowType: string, outcome: 'completed' | 'failed' | 'rejected'): void;
  queryHandled(workflowType: string, outcome: 'answered' | 'failed'): void;
  timerStarted(workflowType: string): void;
  timerFired(workflowType: string): void;
  activityScheduled(activityType: string): void;
  /** An attempt began (its ActivityTaskStarted is durable). */
  activityAttemptStarted(activityType: string): void;
  /** An attempt's outcome, durable. `retrying`: another attempt follows. */
  activityAttemptRecorded(activityType: string, outcome: ActivityAttemptOutcome, retrying: boolean): void;
  /** An attempt that ran in this process: from when it was due to when it started, and how long it ran. */
  activityAttemptTimed(activityType: string, scheduleToStartSeconds: number, executionSeconds: number): void;
  /** One durable append (or a run's creation); `bytes` is what the store says it wrote since the last call (appends finishing together may be reported in one). */
  storeAppended(seconds: number, events: number, bytes: number): void;
}

export type SpanAttributes = Record<string, string | number | boolean>;

/** A trace ID (32 hex) and span ID (16 hex), for log lines. */
export interface TraceIds {
  traceId: string;
  spanId: string;
}

/**
 * One finished span, named and timed by the engine from its history (see tracing.ts): the host hands
 * it to OpenTelemetry with exactly these IDs, so spans written by different processes, or before and
 * after a restart, fit together.
 */
export interface EngineSpan extends TraceIds {
  name: string;
  kind: 'client' | 'server' | 'internal';
  /** The parent span in the same trace: one of the engine's, or the caller's (`remoteParent`). */
  parentSpanId?: string;
  remoteParent?: boolean;
  /** The caller's sampling decision (W3C flags), or true for a run nobody traced. */
  sampled: boolean;
  traceState?: string;
  startTime: Date;
  endTime: Date;
  attributes: SpanAttributes;
  /** Spans that caused this one in another trace or place (the sender of a signal, the caller of an update). */
  links?: LinkedSpan[];
  /** The span failed: recorded as an exception event, with status ERROR. */
  failure?: FailureInfo;
  /** Status ERROR with this message, without an exception (a run timed out or terminated). */
  error?: string;
}

/** A span another one links to (from a W3C `traceparent`). */
export interface LinkedSpan extends TraceIds {
  sampled: boolean;
  traceState?: string;
}

/** Where the engine reports finished spans (the dev server fills it with the OpenTelemetry SDK). */
export interface EngineTracing {
  /** Called once per span, when the event that ends it is durable (a query: when it is answered). */
  span(span: EngineSpan): void;
}
