import type { SearchAttributes } from './search-attributes.js';

/** What a schedule does when a run it started is still open at its next fire time (Temporal's names). */
export const ScheduleOverlapPolicy = {
  SKIP: 'SKIP',
  BUFFER_ONE: 'BUFFER_ONE',
  BUFFER_ALL: 'BUFFER_ALL',
  CANCEL_OTHER: 'CANCEL_OTHER',
  TERMINATE_OTHER: 'TERMINATE_OTHER',
  ALLOW_ALL: 'ALLOW_ALL',
} as const;
export type ScheduleOverlapPolicy = (typeof ScheduleOverlapPolicy)[keyof typeof ScheduleOverlapPolicy];

/** When a schedule fires: cron expressions and/or fixed intervals (UTC). */
export interface ScheduleSpec {
  cronExpressions?: string[];
  intervals?: { everyMs: number; offsetMs?: number }[];
}

/** The workflow a schedule starts: its ID gets the fire time appended (`<workflowId>-<ISO time>`). */
export interface ScheduleAction {
  workflowType: string;
  workflowId: string;
  args?: unknown[];
  memo?: Record<string, unknown>;
  searchAttributes?: SearchAttributes;
  runTimeoutMs?: number;
}

export interface SchedulePolicies {
  overlap: ScheduleOverlapPolicy;
  /** Fire times missed while no server ran are made up when they are this recent (default 1 year). */
  catchupWindowMs: number;
}

/** A schedule as created by a client. */
export interface ScheduleDefinition {
  scheduleId: string;
  spec: ScheduleSpec;
  action: ScheduleAction;
  policies?: Partial<SchedulePolicies>;
  state?: { paused?: boolean; note?: string };
}

/** One action a schedule took. */
export interface ScheduleActionResult {
  scheduledAt: string;
  takenAt: string;
  workflowId: string;
  runId?: string;
  /** What happened: started, or why not. */
  outcome: 'started' | 'skipped' | 'buffered' | 'already-started' | 'failed';
  message?: string;
}

/** A schedule as stored: its definition and what it has done. */
export interface StoredSchedule {
  scheduleId: string;
  spec: ScheduleSpec;
  action: ScheduleAction;
  policies: SchedulePolicies;
  state: { paused: boolean; note?: string };
  createdAt: string;
  /** The latest fire time handled (epoch ms); the next fire is after it. */
  lastFireAt?: number;
  /** Fire times waiting for the previous run to close (BUFFER_ONE / BUFFER_ALL). */
  buffered: number[];
  /** The workflow ID of the latest run it started. */
  lastWorkflowId?: string;
  recentActions: ScheduleActionResult[];
}

/** A schedule as described to a client: stored data and the next fire times. */
export interface ScheduleDescription extends StoredSchedule {
  nextActionTimes: string[];
}

/** Where schedules are kept: every store that supports them implements these calls. */
export interface ScheduleStore {
  saveSchedule(schedule: StoredSchedule): Promise<void>;
  deleteSchedule(scheduleId: string): Promise<boolean>;
  listSchedules(): Promise<StoredSchedule[]>;
}

export function isScheduleStore(store: object): store is ScheduleStore {
  return typeof (store as Partial<ScheduleStore>).saveSchedule === 'function';
}
