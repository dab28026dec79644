import type { NewEvent } from '../../history/events.js';
import type { RunRef, WorkflowService } from '../../protocol/service.js';
import { errorToFailure } from '../../workflow/failures.js';
import type { EngineKernel } from './kernel.js';
import type { Mailbox } from './mailbox.js';
import type { RunEntry } from './run-entry.js';

/** How a message reaches another workflow (whichever process holds it): the service's own calls. */
export type MessagePort = Pick<WorkflowService, 'signal' | 'cancel'>;

/**
 * Signals and cancel requests a workflow sends to other workflows: delivered, then the outcome is
 * recorded in the sender's history. A message recorded as sent but not as delivered (a crash in
 * between) is sent again; the signal's request ID makes the repeat harmless.
 */
export class ExternalMessages {
  constructor(
    private readonly kernel: EngineKernel,
    private readonly mailbox: Mailbox,
    private readonly port: MessagePort,
  ) {}

  sendSignal(entry: RunEntry, seq: number): void {
    const pending = entry.executor?.externalSignals.get(seq);
    if (!pending) return;
    this.deliverThenRecord(entry, seq, pending, {
      send: (ref) =>
        this.port.signal(
          ref,
          pending.signalName,
          pending.args,
          `${entry.key.runId}:${seq}`,
          this.kernel.tracing?.signalHeader(entry.started, seq),
        ),
      delivered: { type: 'ExternalWorkflowExecutionSignaled', seq },
      failed: (failure) => ({ type: 'SignalExternalWorkflowExecutionFailed', seq, failure }),
    });
  }

  sendCancel(entry: RunEntry, seq: number): void {
    const pending = entry.executor?.externalCancels.get(seq);
    if (!pending) return;
    // In-flight keys: signals by seq, cancels by -seq.
    this.deliverThenRecord(entry, -seq, pending, {
      send: (ref) => this.port.cancel(ref, `requested by workflow ${entry.key.workflowId}`),
      delivered: { type: 'ExternalWorkflowExecutionCancelRequested', seq },
      failed: (failure) => ({ type: 'RequestCancelExternalWorkflowExecutionFailed', seq, failure }),
    });
  }

  /** Sends again whatever the run recorded as sent and not yet as delivered. */
  resume(entry: RunEntry): void {
    for (const seq of entry.executor?.externalSignals.keys() ?? []) this.sendSignal(entry, seq);
    for (const seq of entry.executor?.externalCancels.keys() ?? []) this.sendCancel(entry, seq);
  }

  private deliverThenRecord(
    entry: RunEntry,
    inFlightKey: number,
    target: { workflowId: string; runId?: string | undefined },
    how: {
      send: (ref: RunRef) => Promise<void>;
      delivered: NewEvent;
      failed: (failure: ReturnType<typeof errorToFailure>) => NewEvent;
    },
  ): void {
    if (this.kernel.stopped || entry.messagesInFlight.has(inFlightKey)) return;
    entry.messagesInFlight.add(inFlightKey);
    const ref =
      target.runId === undefined
        ? { workflowId: target.workflowId }
        : { workflowId: target.workflowId, runId: target.runId };
    how.send(ref).then(
      () => {
        entry.messagesInFlight.delete(inFlightKey);
        this.mailbox.enqueue(entry, { input: how.delivered });
      },
      (error: unknown) => {
        entry.messagesInFlight.delete(inFlightKey);
        this.mailbox.enqueue(entry, { input: how.failed(errorToFailure(error)) });
      },
    );
  }
}
