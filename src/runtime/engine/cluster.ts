import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { WfError } from '../../common/errors.js';
import type { NewEvent } from '../../history/events.js';
import type {
  InboxMessage,
  LiveServer,
  RunLease,
  SharedHistoryStore,
  StoredInboxMessage,
} from '../../history/shared-store.js';
import type { RunKey, RunSummary } from '../../history/store.js';
import type { ActivityDispatcher } from './activity-dispatcher.js';
import { type ActivityTaskBody, ActivityWorker } from './activity-worker.js';
import type { Effects } from './effects.js';
import type { EngineKernel } from './kernel.js';
import type { Mailbox } from './mailbox.js';
import type { Outcomes } from './outcomes.js';
import { LeasedOwnership, type RunFencedError } from './ownership.js';
import type { Recovery } from './recovery.js';
import type { RunCache } from './run-cache.js';
import { type RunEntry, runKeyString } from './run-entry.js';
import type { ClusterOptions, Work } from './types.js';

/**
 * This process's part in a store shared with other processes. It holds runs under leases (renewed
 * in one batch), claims runs with work due (a message, a due timer, a holder that died), hands runs
 * back on shutdown, drops a run as soon as its lease is lost (the store's fence refuses that
 * process's appends anyway), and carries messages to runs other processes hold through their
 * inbox. Without notifications from the store it still works, by polling.
 */
export class Cluster {
  readonly owner: string;
  readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly claimBatch: number;
  private readonly handBackMs: number;
  private readonly buildId: string | undefined;
  private readonly worker: ActivityWorker;
  /** Runs this build could not replay: given straight back when claimed again, so another build gets them. */
  private readonly cannotReplay = new Set<string>();
  /** Where this server's HTTP API listens, once known (shown to operators by `wf cluster`). */
  address: string | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | undefined;
  private claiming: Promise<void> | undefined;
  private claimAgain = false;

  constructor(
    private readonly kernel: EngineKernel,
    private readonly store: SharedHistoryStore,
    private readonly cache: RunCache,
    private readonly mailbox: Mailbox,
    private readonly effects: () => Effects,
    private readonly recovery: () => Recovery,
    private readonly outcomes: () => Outcomes,
    options: ClusterOptions,
    dispatcher: ActivityDispatcher,
    maxConcurrentActivities: number,
  ) {
    this.owner = options.owner ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.pollMs = options.pollMs ?? 500;
    this.claimBatch = options.claimBatch ?? 50;
    this.buildId = options.buildId;
    // A run this build cannot replay (a rolling deploy) waits three leases before anyone tries it again.
    this.handBackMs = 3 * this.leaseMs;
    kernel.ownership = new LeasedOwnership(store, this.owner, this.leaseMs, options.buildId);
    kernel.buildId = options.buildId;
    this.worker = new ActivityWorker(
      kernel,
      store,
      this.owner,
      this.leaseMs,
      this.pollMs,
      maxConcurrentActivities,
    );
    const worker = this.worker;
    dispatcher.remote = {
      offer: (entry, seq, attempt, scheduled) => {
        const pending = entry.executor?.activities.get(seq);
        const body: ActivityTaskBody = {
          scheduled,
          workflowType: entry.workflowType,
          attemptScheduledAt: pending?.retryAt ?? Date.parse(scheduled.eventTime),
          ...(entry.heartbeats.has(seq) ? { heartbeatDetails: entry.heartbeats.get(seq) } : {}),
          ...(entry.started.header ? { header: entry.started.header } : {}),
        };
        store.enqueueActivityTask(entry.key, { seq, attempt, task: body }).then(
          () => worker.kick(),
          (error: unknown) =>
            kernel.logger.warn(`offering activity ${scheduled.activityType}: ${(error as Error).message}`),
        );
      },
      cancel: async (entry, seq) => (await store.cancelActivityTask(entry.key, seq)) !== 'running',
    };
  }

  /** Starts renewing, watching and claiming; resolves once the runs due now are claimed. */
  async start(): Promise<void> {
    this.unwatch = this.store.watch((change) => {
      if (change.kind === 'run-closed') {
        this.outcomes().closedElsewhere(change.key);
        return;
      }
      const held = this.cache.get(change.key);
      if (held?.lease && !held.dropped) void this.pullInbox(held);
      else this.claimSoon();
    });
    await this.announce();
    this.renewTimer = setInterval(
      () => {
        void this.renew();
        void this.announce();
      },
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    this.renewTimer.unref();
    this.pollTimer = setInterval(() => {
      this.claimSoon();
      this.outcomes().pollClosed();
    }, this.pollMs);
    this.pollTimer.unref();
    await this.claimDue();
    this.worker.start();
  }

  /** Stops looking for work. With `handBack`, gives every held run back so others take it at once. */
  async stop(handBack: boolean): Promise<void> {
    this.unwatch?.();
    this.worker.stop();
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.claiming;
    await this.store.removeServer(this.owner).catch(() => undefined);
    if (!handBack) return;
    for (const entry of [...this.cache.values()]) {
      if (!entry.lease || entry.dropped || entry.closed) continue;
      entry.dropped = true;
      await this.store.releaseRun(entry.lease, { wakeAt: Date.now() }).catch((error: unknown) => {
        this.kernel.logger.warn(`handing back workflow ${entry.key.workflowId}: ${(error as Error).message}`);
      });
    }
  }

  /** The servers sharing the store now (seen within two leases), with their builds. */
  servers(): Promise<LiveServer[]> {
    return this.store.listServers(2 * this.leaseMs);
  }

  private async announce(): Promise<void> {
    try {
      await this.store.heartbeatServer({
        owner: this.owner,
        host: hostname(),
        pid: process.pid,
        ...(this.buildId === undefined ? {} : { buildId: this.buildId }),
        ...(this.address === undefined ? {} : { address: this.address }),
      });
    } catch (error) {
      this.kernel.logger.warn(`announcing this server: ${(error as Error).message}`);
    }
  }

  /** Records a message for a run this process does not hold. */
  deliver(key: RunKey, message: InboxMessage): Promise<void> {
    return this.store.deliver(key, message);
  }

  /** Takes a run here to serve a request on it; undefined when another live process holds it. */
  async claimHere(summary: RunSummary): Promise<RunEntry | undefined> {
    const lease = await this.store.claimRun(summary, this.owner, this.leaseMs);
    if (!lease) return undefined;
    return this.hold(summary, lease);
  }

  /** The run was taken by another process: forget it here; what callers sent goes to its inbox. */
  onFenced(entry: RunEntry, error: RunFencedError, unrecorded: Work[]): void {
    this.kernel.logger.warn(error.message);
    this.drop(entry);
    for (const work of unrecorded) {
      if (!work.done) continue; // from the world (activity outcomes, timers): the new holder redoes it
      const message = messageOf(work);
      if (!message) {
        work.done(new WfError('UNAVAILABLE', `${error.message}; send it again`));
        continue;
      }
      this.deliver(entry.key, message).then(
        () => work.done?.(),
        (failure: unknown) => work.done?.(failure as Error),
      );
    }
  }

  /** The store failed mid-activation: give the run back; callers hear that their request may not be recorded. */
  onStoreLost(entry: RunEntry, error: Error, unsure: Work[]): void {
    this.kernel.logger.warn(
      `workflow ${entry.key.workflowId}: the store failed (${error.message}); giving the run up to be rebuilt from the store`,
    );
    const lease = entry.lease;
    this.drop(entry);
    for (const work of unsure) {
      work.done?.(
        new WfError(
          'UNAVAILABLE',
          `the store failed while recording this (${error.message}): it may or may not have been recorded. Send it again (with a request ID, a repeat is recorded once).`,
        ),
      );
    }
    if (lease) void this.store.releaseRun(lease, { wakeAt: Date.now() }).catch(() => undefined);
    this.claimSoon();
  }

  /** The run's code cannot replay it here (another build may): hand it back, to be tried again in three leases. */
  handBack(entry: RunEntry): void {
    if (!entry.lease || entry.dropped) return;
    const lease = entry.lease;
    this.cannotReplay.add(runKeyString(entry.key));
    this.drop(entry);
    void this.store.releaseRun(lease, { wakeAt: Date.now() + this.handBackMs }).catch(() => undefined);
  }

  private drop(entry: RunEntry): void {
    entry.dropped = true;
    this.effects().stop(entry);
    this.cache.remove(entry);
    for (const [, waiters] of entry.updateWaiters) {
      for (const waiter of waiters) {
        waiter.reject(
          new WfError(
            'UNAVAILABLE',
            `workflow ${entry.key.workflowId} moved to another process; send the update again`,
          ),
        );
      }
    }
    entry.updateWaiters.clear();
    // Callers waiting for the result now wait on the store.
    for (const waiter of entry.resultWaiters.splice(0)) this.outcomes().waitElsewhere(entry.key, waiter);
  }

  private claimSoon(): void {
    if (this.kernel.stopped) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = this.claimDue()
      .catch((error: unknown) => this.kernel.logger.warn(`claiming due runs: ${(error as Error).message}`))
      .finally(() => {
        this.claiming = undefined;
        if (this.claimAgain) {
          this.claimAgain = false;
          this.claimSoon();
        }
      });
  }

  private async claimDue(): Promise<void> {
    for (;;) {
      if (this.kernel.stopped) return;
      const leases = await this.store.claimDueRuns(this.owner, {
        limit: this.claimBatch,
        leaseMs: this.leaseMs,
      });
      for (const lease of leases) {
        if (this.cannotReplay.has(runKeyString(lease.key))) {
          await this.store.releaseRun(lease, { wakeAt: Date.now() + this.leaseMs }).catch(() => undefined);
          continue;
        }
        const held = this.cache.get(lease.key);
        if (held && !held.dropped) {
          held.lease = lease;
          await this.pullInbox(held);
          continue;
        }
        // The lease names the run: no listing to find it.
        await this.hold(lease.key, lease);
      }
      if (leases.length < this.claimBatch) return;
    }
  }

  /** Holds a claimed run here: rebuilt by replay, its effects re-armed, its inbox read. */
  private async hold(summary: RunKey, lease: RunLease): Promise<RunEntry | undefined> {
    const entry = await this.recovery().open(summary, lease);
    if (!entry) {
      await this.store.releaseRun(lease, { wakeAt: Date.now() + this.handBackMs }).catch(() => undefined);
      return undefined;
    }
    if (entry.paused) {
      this.handBack(entry);
      return undefined;
    }
    await this.pullInbox(entry);
    return entry;
  }

  /** Queues the run's new inbox messages, each consumed with the append that records it. */
  private async pullInbox(entry: RunEntry): Promise<void> {
    let messages: StoredInboxMessage[];
    try {
      messages = await this.store.readInbox(entry.key);
    } catch (error) {
      this.kernel.logger.warn(`reading the inbox of ${entry.key.workflowId}: ${(error as Error).message}`);
      return;
    }
    entry.inboxQueued ??= new Set();
    for (const { id, message } of messages) {
      if (entry.inboxQueued.has(id)) continue;
      entry.inboxQueued.add(id);
      if (message.kind === 'activity-outcome' && message.heartbeatDetails !== undefined) {
        const seq = activitySeqOf(message);
        if (seq !== undefined) entry.heartbeats.set(seq, message.heartbeatDetails);
      }
      if (message.kind === 'activity-outcome' && message.attemptStartedAt !== undefined) {
        const started = message.info?.find((e) => e.type === 'ActivityTaskStarted');
        if (started?.type === 'ActivityTaskStarted') {
          this.kernel.tracing?.attemptStarted(
            entry.key.runId,
            started.seq,
            started.attempt,
            message.attemptStartedAt,
          );
        }
      }
      this.mailbox.enqueue(entry, { ...workOf(message), inboxId: id });
    }
  }

  private async renew(): Promise<void> {
    const held = [...this.cache.values()].filter((e) => e.lease && !e.dropped && !e.closed);
    if (held.length === 0) return;
    let renewed: RunLease[];
    try {
      renewed = await this.store.renewLeases(
        this.owner,
        held.map((e) => e.lease!),
        this.leaseMs,
      );
    } catch (error) {
      this.kernel.logger.warn(`renewing leases: ${(error as Error).message}`);
      return;
    }
    const kept = new Set(renewed.map((l) => `${l.key.workflowId}\u0000${l.key.runId}\u0000${l.epoch}`));
    for (const entry of held) {
      const lease = entry.lease!;
      if (kept.has(`${lease.key.workflowId}\u0000${lease.key.runId}\u0000${lease.epoch}`)) continue;
      if (entry.closed || entry.dropped) continue;
      this.kernel.logger.warn(
        `lost the lease on workflow ${entry.key.workflowId}: another process holds it now`,
      );
      this.drop(entry);
    }
  }
}

function activitySeqOf(message: Extract<InboxMessage, { kind: 'activity-outcome' }>): number | undefined {
  const event = message.input ?? message.info?.[0];
  return event && 'seq' in event ? event.seq : undefined;
}

function workOf(message: InboxMessage): Work {
  switch (message.kind) {
    case 'signal':
      return {
        input: {
          type: 'WorkflowSignaled',
          signalName: message.signalName,
          args: message.args,
          ...(message.requestId === undefined ? {} : { requestId: message.requestId }),
          ...(message.header ? { header: message.header } : {}),
        },
      };
    case 'cancel':
      return {
        input: {
          type: 'WorkflowExecutionCancelRequested',
          ...(message.reason === undefined ? {} : { reason: message.reason }),
        },
      };
    case 'terminate':
      return {
        close: {
          type: 'WorkflowExecutionTerminated',
          ...(message.reason === undefined ? {} : { reason: message.reason }),
        },
      };
    case 'child-outcome':
      return { input: message.event };
    case 'update':
      return {
        update: {
          id: message.updateId,
          name: message.updateName,
          args: message.args,
          ...(message.header ? { header: message.header } : {}),
        },
      };
    case 'activity-outcome':
      return {
        ...(message.info ? { info: message.info } : {}),
        ...(message.input ? { input: message.input } : {}),
      };
  }
}

/** What a caller's work becomes as an inbox message for the run's new holder. */
function messageOf(work: Work): InboxMessage | undefined {
  const event: NewEvent | undefined = work.close ?? work.input;
  if (event?.type === 'WorkflowSignaled') {
    return {
      kind: 'signal',
      signalName: event.signalName,
      args: event.args,
      ...(event.requestId === undefined ? {} : { requestId: event.requestId }),
      ...(event.header ? { header: event.header } : {}),
    };
  }
  if (event?.type === 'WorkflowExecutionCancelRequested') {
    return { kind: 'cancel', ...(event.reason === undefined ? {} : { reason: event.reason }) };
  }
  if (event?.type === 'WorkflowExecutionTerminated') {
    return { kind: 'terminate', ...(event.reason === undefined ? {} : { reason: event.reason }) };
  }
  return undefined;
}
