import type { CallSite, HistoryEvent } from '../history/events.js';
import type { Command } from '../workflow/protocol.js';

export interface IssuedCommand {
  /** The event the command would have recorded (its type and identity). */
  description: string;
  callSite?: CallSite;
}

/** Something the workflow code awaits where replay stopped (an activity, a timer, a condition...). */
export interface WaitPoint {
  description: string;
  callSite?: CallSite;
}

/**
 * Workflow code no longer produces the history it recorded: replaying it issued a different command
 * (or none) where the history has an event. Names both sides, with source locations and a fix hint.
 */
export class NonDeterminismError extends Error {
  override name = 'NonDeterminismError';
  constructor(
    readonly details: {
      workflowId: string;
      runId: string;
      workflowType: string;
      /** 1-based id of the event where replay diverged. */
      eventId: number;
      recorded?: HistoryEvent;
      recordedDescription?: string;
      issued?: IssuedCommand;
      /** Where the current code waits instead, when it issued nothing (innermost first). */
      waitingAt?: WaitPoint[];
      hint: string;
    },
  ) {
    super(formatNonDeterminism(details));
  }

  /** The line of the current code the report points at: the differing command's, or where the code waits. */
  get codeSite(): CallSite | undefined {
    return this.details.issued?.callSite ?? this.details.waitingAt?.find((w) => w.callSite)?.callSite;
  }
}

function formatNonDeterminism(d: NonDeterminismError['details']): string {
  const at = (site?: CallSite) => (site ? ` at ${site.file}:${site.line}:${site.column}` : '');
  const recorded = d.recorded
    ? `${d.recordedDescription ?? d.recorded.type}${at('callSite' in d.recorded ? d.recorded.callSite : undefined)}`
    : (d.recordedDescription ?? 'nothing (the history ends here)');
  const waits = (d.waitingAt ?? []).filter((w) => w.callSite).slice(0, 3);
  const issued = d.issued
    ? `${d.issued.description}${at(d.issued.callSite)}`
    : waits.length
      ? `nothing; it now waits on ${waits.map((w) => `${w.description}${at(w.callSite)}`).join(', and on ')}`
      : 'nothing';
  return [
    `non-deterministic workflow ${d.workflowType} (workflow ${JSON.stringify(d.workflowId)}, run ${d.runId}) at event ${d.eventId}:`,
    `  history recorded: ${recorded}`,
    `  code issued:      ${issued}`,
    `  ${d.hint}`,
  ].join('\n');
}

export function describeCommand(command: Command): string {
  switch (command.type) {
    case 'scheduleActivity':
      return `ActivityTaskScheduled ${command.activityType} (seq ${command.seq})`;
    case 'requestCancelActivity':
      return `ActivityTaskCancelRequested (seq ${command.seq})`;
    case 'startTimer':
      return `TimerStarted ${command.durationMs} ms (seq ${command.seq})`;
    case 'cancelTimer':
      return `TimerCanceled (seq ${command.seq})`;
    case 'startChild':
      return `ChildWorkflowExecutionStarted ${command.workflowType} (seq ${command.seq})`;
    case 'requestCancelChild':
      return `ChildWorkflowExecutionCancelRequested (seq ${command.seq})`;
    case 'cancelExternal':
      return `RequestCancelExternalWorkflowExecutionInitiated ${JSON.stringify(command.workflowId)} (seq ${command.seq})`;
    case 'signalExternal':
      return `SignalExternalWorkflowExecutionInitiated ${command.signalName} to ${JSON.stringify(command.workflowId)} (seq ${command.seq})`;
    case 'recordPatch':
      return `MarkerRecorded patch ${JSON.stringify(command.patchId)}`;
    case 'upsertSearchAttributes':
      return `UpsertWorkflowSearchAttributes ${Object.keys(command.searchAttributes).join(', ')}`;
    case 'completeUpdate':
      return `WorkflowUpdateCompleted ${command.id}`;
    case 'completeWorkflow':
      return 'WorkflowExecutionCompleted';
    case 'failWorkflow':
      return `WorkflowExecutionFailed (${command.failure.message})`;
    case 'cancelWorkflow':
      return 'WorkflowExecutionCanceled';
    case 'continueAsNew':
      return 'WorkflowExecutionContinuedAsNew';
    default:
      return (command satisfies never as Command).type;
  }
}

export function describeEvent(event: HistoryEvent): string {
  switch (event.type) {
    case 'ActivityTaskScheduled':
      return `ActivityTaskScheduled ${event.activityType} (seq ${event.seq})`;
    case 'TimerStarted':
      return `TimerStarted ${event.durationMs} ms (seq ${event.seq})`;
    case 'TimerCanceled':
    case 'ActivityTaskCancelRequested':
    case 'ChildWorkflowExecutionCancelRequested':
      return `${event.type} (seq ${event.seq})`;
    case 'ChildWorkflowExecutionStarted':
      return `ChildWorkflowExecutionStarted ${event.workflowType} (seq ${event.seq})`;
    case 'MarkerRecorded':
      return `MarkerRecorded patch ${JSON.stringify(event.patchId)}`;
    case 'WorkflowUpdateCompleted':
      return `WorkflowUpdateCompleted ${event.updateId}`;
    case 'WorkflowSignaled':
      return `WorkflowSignaled ${event.signalName}`;
    case 'SignalExternalWorkflowExecutionInitiated':
      return `SignalExternalWorkflowExecutionInitiated ${event.signalName} to ${JSON.stringify(event.workflowId)} (seq ${event.seq})`;
    default:
      return event.type;
  }
}
