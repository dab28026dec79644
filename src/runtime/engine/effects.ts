import type { HistoryEvent } from '../../history/events.js';
import { CLOSING_EVENT_TYPES } from '../../history/events.js';
import type { ActivityDispatcher } from './activity-dispatcher.js';
import type { Children } from './children.js';
import type { ExternalMessages } from './external.js';
import type { EngineKernel } from './kernel.js';
import { type Outcomes, settleUpdate } from './outcomes.js';
import type { RunEntry } from './run-entry.js';
import type { DurableTimers } from './timers.js';

export interface EffectRooms {
  activities: ActivityDispatcher;
  timers: DurableTimers;
  children: Children;
  external: ExternalMessages;
  outcomes: Outcomes;
}

/**
 * Carries out what newly durable events ask for, each in its room: an activity to run, a timer to
 * arm, a child to start, a message to send, waiters to answer, a run to close. Also re-arms all of
 * it for a run rebuilt after a restart or a reload.
 */
export class Effects {
  constructor(
    private readonly kernel: EngineKernel,
    private readonly rooms: EffectRooms,
  ) {}

  async afterAppend(entry: RunEntry, events: HistoryEvent[]): Promise<void> {
    const { activities, timers, children, external, outcomes } = this.rooms;
    for (const event of events) {
      this.kernel.publish(entry, event);
      switch (event.type) {
        case 'ActivityTaskScheduled':
          activities.schedule(entry, event.seq);
          break;
        case 'ActivityTaskStarted':
          // An attempt now waits for async completion: where it ran on another server (a shared
          // store), this server, which holds the run, takes up the wait (a no-op where it ran here).
          if (event.asyncCompletion) activities.schedule(entry, event.seq);
          break;
        case 'ActivityTaskFailed':
        case 'ActivityTaskTimedOut':
          if (event.nextRetryDelayMs !== undefined) activities.schedule(entry, event.seq);
          else entry.heartbeats.delete(event.seq);
          break;
        case 'ActivityTaskCompleted':
        case 'ActivityTaskCanceled':
          entry.heartbeats.delete(event.seq);
          break;
        case 'ActivityTaskCancelRequested':
          activities.cancel(entry, event.seq);
          break;
        case 'TimerStarted':
          timers.arm(entry, event.seq, Date.parse(event.fireAt));
          break;
        case 'TimerCanceled':
          timers.cancel(entry, event.seq);
          break;
        case 'ChildWorkflowExecutionStarted':
          await children.start(entry, event.seq);
          break;
        case 'SignalExternalWorkflowExecutionInitiated':
          external.sendSignal(entry, event.seq);
          break;
        case 'RequestCancelExternalWorkflowExecutionInitiated':
          external.sendCancel(entry, event.seq);
          break;
        case 'ChildWorkflowExecutionCancelRequested':
          children.cancel(entry, event.seq);
          break;
        case 'WorkflowUpdateCompleted': {
          const waiters = entry.updateWaiters.get(event.updateId) ?? [];
          entry.updateWaiters.delete(event.updateId);
          settleUpdate(waiters, event);
          break;
        }
        default:
          if (CLOSING_EVENT_TYPES.has(event.type)) await outcomes.onClosed(entry, event);
      }
    }
  }

  /** Re-arms what a recovered run was waiting on: activities, timers, messages, children, its run timeout. */
  resume(entry: RunEntry): void {
    if (!entry.executor) return;
    const { activities, timers, children, external } = this.rooms;
    timers.resume(entry);
    activities.resume(entry);
    // A signal recorded as sent but not as delivered (a crash between the two) is sent again.
    external.resume(entry);
    children.resume(entry);
  }

  stop(entry: RunEntry): void {
    this.rooms.timers.stop(entry);
    this.rooms.activities.stop(entry);
  }
}
