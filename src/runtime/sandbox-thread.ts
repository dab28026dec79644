import { availableParallelism, cpus, loadavg } from 'node:os';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { WfError } from '../common/errors.js';
import {
  ASYNC_POSTED,
  type AsyncEnvelope,
  type AsyncReply,
  DOORBELL,
  SPIN_ALLOWED,
  STATE_IDLE,
  STATE_REPLY,
  STATE_REQUEST,
  STATE_WORDS,
  sandboxWorkerSource,
  WORKER_ASLEEP,
  type WorkerEnvelope,
  type WorkerReply,
  type WorkerRequest,
} from './sandbox-worker.js';

/** The workflow code ran too long without yielding: an infinite loop or a busy wait. */
export class WorkflowDeadlockError extends Error {
  override name = 'WorkflowDeadlockError';
}

/** A call was waiting when another call's deadlock stopped the workflow thread: make it again. */
export class WorkflowThreadStoppedError extends WfError {
  override name = 'WorkflowThreadStoppedError';
  constructor(message: string) {
    super('UNAVAILABLE', message);
  }
}

/** Time the first call may take on top of its own timeout: the thread boots on first use. */
const BOOT_ALLOWANCE_MS = 10_000;
/**
 * How long the host spins for a reply before it sleeps on the state word. Waking a sleeping thread
 * takes 30 µs to several hundred on a virtual machine, more than most activations, so spinning
 * pays on a machine with a core to spare. On a busy one it holds a core the other thread needs:
 * measured at a load of 6.5 on 2 cores, a step took 92-130 µs without spinning, 400-570 µs with
 * 0.2 ms spins and 740-1,220 µs with 0.5-1 ms spins. So both threads spin only while the other
 * processes leave a core idle (coreToSpare).
 */
const SPIN_MS = 0.2;
/** How often the host looks again at how busy the cores are (see coreToSpare). */
const LOAD_CHECK_MS = 1000;

interface Running {
  worker: Worker;
  port: MessagePort;
  state: Int32Array;
  booted: boolean;
  spinLimit?: number;
  /** The asynchronous port, and its calls awaiting an answer by ID. */
  asyncPort: MessagePort;
  pending: Map<
    number,
    { resolve(reply: WorkerReply): void; reject(error: Error): void; timer?: NodeJS.Timeout }
  >;
  loadCheckedAt: number;
  cpuMicrosAtCheck: number;
  /** The machine's CPU time at the last look (see coreToSpare). */
  machineAtCheck?: { busy: number };
}

/** How many reads of the state word take SPIN_MS here (spins are counted: a clock read per turn slows them). */
function calibrateSpins(state: Int32Array): number {
  let fastest = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    for (let i = 0; i < 100_000; i++) Atomics.load(state, 0);
    fastest = Math.min(fastest, performance.now() - start);
  }
  return Math.round((100_000 / Math.max(fastest, 0.01)) * SPIN_MS);
}

/**
 * The host's end of the workflow thread (sandbox-worker.ts): synchronous calls over a shared state
 * word and a message port, each with the caller's deadlock timeout. When a call times out the
 * thread is terminated, whatever it was running with it, and the next call starts a new one:
 * `generation` counts them, so contexts and runs of an earlier thread are known to be gone.
 */
export class SandboxThread {
  generation = 0;
  private running: Running | undefined;
  private nextId = 1;
  private freeRuns: number[] = [];
  private freeContexts: number[] = [];
  private readonly runRegistry = new FinalizationRegistry<{ id: number; generation: number }>((held) => {
    if (held.generation === this.generation) this.freeRuns.push(held.id);
  });
  private readonly contextRegistry = new FinalizationRegistry<{ id: number; generation: number }>((held) => {
    if (held.generation === this.generation) this.freeContexts.push(held.id);
  });

  /** Whether asynchronous calls are waiting for their answers. */
  get busy(): boolean {
    return (this.running?.pending.size ?? 0) > 0;
  }

  newId(): number {
    return this.nextId++;
  }

  /** Starts the thread now, so that it boots while the caller does other work (bundling). */
  warmUp(): void {
    this.running ??= this.start();
  }

  /** Forget run `id` in the thread once `owner` is garbage-collected. */
  trackRun(owner: object, id: number): void {
    this.runRegistry.register(owner, { id, generation: this.generation });
  }

  trackContext(owner: object, id: number): void {
    this.contextRegistry.register(owner, { id, generation: this.generation });
  }

  /**
   * Sends one call and blocks until its reply. `timeoutMs` <= 0 waits for ever; past it, the thread
   * is terminated and a WorkflowDeadlockError thrown.
   */
  call(request: WorkerRequest, timeoutMs: number): WorkerReply {
    const running = this.running ?? this.start();
    running.port.postMessage(this.envelopeOf(request));
    Atomics.store(running.state, 0, STATE_REQUEST);
    // A sleeping thread that is woken may be queued on this core: then spinning would only delay it.
    const wokeIt = Atomics.load(running.state, WORKER_ASLEEP) === 1;
    ring(running.state);
    if (!this.awaitReply(running, timeoutMs, wokeIt)) {
      const deadlock = deadlockError(timeoutMs);
      // The thread answers calls in order: if an asynchronous call is still unanswered, it is the
      // one that loops (this one waited behind it), and this call is made again by its caller.
      for (let m = receiveMessageOnPort(running.asyncPort); m; m = receiveMessageOnPort(running.asyncPort)) {
        this.answered(running, m.message as AsyncReply);
      }
      const [culprit] = running.pending.values();
      if (culprit) {
        running.pending.delete([...running.pending.keys()][0]!);
        if (culprit.timer) clearTimeout(culprit.timer);
        culprit.reject(deadlock);
      }
      this.terminate();
      if (culprit)
        throw new WorkflowThreadStoppedError('the workflow thread was stopped while this call waited');
      throw deadlock;
    }
    running.booted = true;
    const message = receiveMessageOnPort(running.port);
    Atomics.store(running.state, 0, STATE_IDLE);
    if (!message) throw new Error('wf bug: the workflow thread answered without a reply');
    return message.message as WorkerReply;
  }

  /**
   * Sends one call without waiting: the host goes on while the thread works (a call made meanwhile
   * with `call()` is answered first). Past `timeoutMs` from now, the thread is terminated; calls
   * still waiting then reject with WorkflowThreadStoppedError.
   */
  callAsync(request: WorkerRequest, timeoutMs: number): Promise<WorkerReply> {
    const running = this.running ?? this.start();
    const id = this.nextId++;
    return new Promise<WorkerReply>((resolve, reject) => {
      const entry: { resolve(reply: WorkerReply): void; reject(error: Error): void; timer?: NodeJS.Timeout } =
        {
          resolve,
          reject,
        };
      if (timeoutMs > 0) {
        entry.timer = setTimeout(
          () => {
            if (this.running !== running || !running.pending.delete(id)) return;
            this.terminate();
            reject(deadlockError(timeoutMs));
          },
          timeoutMs + (running.booted ? 0 : BOOT_ALLOWANCE_MS),
        );
      }
      if (running.pending.size === 0) running.asyncPort.ref();
      running.pending.set(id, entry);
      running.asyncPort.postMessage({ id, envelope: this.envelopeOf(request) } satisfies AsyncEnvelope);
      Atomics.add(running.state, ASYNC_POSTED, 1);
      ring(running.state);
    });
  }

  private envelopeOf(request: WorkerRequest): WorkerEnvelope {
    return this.freeRuns.length > 0 || this.freeContexts.length > 0
      ? { request, freeRuns: this.freeRuns.splice(0), freeContexts: this.freeContexts.splice(0) }
      : { request };
  }

  private answered(running: Running, { id, reply }: AsyncReply): void {
    const entry = running.pending.get(id);
    if (!entry) return;
    running.pending.delete(id);
    if (entry.timer) clearTimeout(entry.timer);
    if (running.pending.size === 0) running.asyncPort.unref();
    running.booted = true;
    entry.resolve(reply);
  }

  private awaitReply(running: Running, timeoutMs: number, wokeIt: boolean): boolean {
    const { state } = running;
    running.spinLimit ??= calibrateSpins(state);
    const now = performance.now();
    if (now - running.loadCheckedAt > LOAD_CHECK_MS) {
      Atomics.store(state, SPIN_ALLOWED, this.coreToSpare(running, now) ? 1 : 0);
    }
    let spins = 0;
    const spinLimit = wokeIt || Atomics.load(state, SPIN_ALLOWED) === 0 ? 0 : running.spinLimit;
    while (Atomics.load(state, 0) !== STATE_REPLY) {
      if (++spins > spinLimit) break;
    }
    const limit =
      timeoutMs > 0 ? timeoutMs + (running.booted ? 0 : BOOT_ALLOWANCE_MS) : Number.POSITIVE_INFINITY;
    const deadline = performance.now() + limit;
    while (Atomics.load(state, 0) !== STATE_REPLY) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(state, 0, STATE_REQUEST, left);
    }
    return true;
  }

  /**
   * Whether the machine has a core to spare: the other processes' use of the cores over the last
   * interval (the machine's busy time less this process's own, whose two threads would otherwise
   * count against it) leaves one idle. At the first look, the load average stands in for it (it
   * also counts processes waiting for the disk, and lags by a minute: too coarse to keep using).
   */
  private coreToSpare(running: Running, now: number): boolean {
    const used = process.cpuUsage();
    const cpuMicros = used.user + used.system;
    const machine = machineCpuMs();
    // Over the last interval; at the first look, since the process started (`now` counts from then).
    const since = Number.isFinite(running.loadCheckedAt) ? running.loadCheckedAt : 0;
    const elapsed = now - since;
    const own = elapsed > 0 ? (cpuMicros - running.cpuMicrosAtCheck) / 1000 / elapsed : 0;
    const previous = running.machineAtCheck;
    running.loadCheckedAt = now;
    running.cpuMicrosAtCheck = cpuMicros;
    running.machineAtCheck = machine;
    const cores = availableParallelism();
    if (!previous || elapsed <= 0) return loadavg()[0]! - own + 1 <= cores;
    const busy = (machine.busy - previous.busy) / elapsed;
    return Math.max(0, busy - own) + 1 <= cores;
  }

  private start(): Running {
    const channel = new MessageChannel();
    const asyncChannel = new MessageChannel();
    const shared = new SharedArrayBuffer(STATE_WORDS * Int32Array.BYTES_PER_ELEMENT);
    const worker = new Worker(sandboxWorkerSource(), {
      eval: true,
      execArgv: [],
      workerData: { state: shared, port: channel.port2, asyncPort: asyncChannel.port2 },
      transferList: [channel.port2, asyncChannel.port2],
      name: 'wf-workflows',
    });
    // The thread failing on its own (out of memory) must not take the host down: the call it was
    // answering times out like a deadlock, and the next call starts a new thread.
    worker.on('error', () => undefined);
    worker.unref();
    channel.port1.unref();
    const running: Running = {
      worker,
      port: channel.port1,
      state: new Int32Array(shared),
      booted: false,
      loadCheckedAt: Number.NEGATIVE_INFINITY,
      cpuMicrosAtCheck: 0,
      asyncPort: asyncChannel.port1,
      pending: new Map(),
    };
    running.asyncPort.on('message', (message: AsyncReply) => this.answered(running, message));
    running.asyncPort.unref();
    this.running = running;
    return running;
  }

  /** The thread's heap in use after a full collection (for the benchmark's memory figures); 0 when not started. */
  heapUsed(): number {
    if (!this.running) return 0;
    return this.call({ op: 'heapUsed' }, 0).value as number;
  }

  /** Stops the thread (and everything running in it); the next call starts a new one. */
  terminate(): void {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    this.generation++;
    this.freeRuns = [];
    this.freeContexts = [];
    running.port.close();
    running.asyncPort.close();
    for (const entry of running.pending.values()) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.reject(new WorkflowThreadStoppedError('the workflow thread was stopped while this call waited'));
    }
    running.pending.clear();
    void running.worker.terminate();
  }
}

function deadlockError(timeoutMs: number): WorkflowDeadlockError {
  return new WorkflowDeadlockError(
    `workflow code ran for more than ${timeoutMs} ms without awaiting anything: look for an infinite loop or a busy wait`,
  );
}

/**
 * Tells the thread a call is posted. The thread waits only while the doorbell still reads what it
 * read before it last looked for work, and says it sleeps before it waits: a thread that was seen
 * awake either finds the call or sees the doorbell moved, so only a sleeping one needs the wake-up
 * (a system call).
 */
function ring(state: Int32Array): void {
  Atomics.add(state, DOORBELL, 1);
  if (Atomics.load(state, WORKER_ASLEEP) === 1) Atomics.notify(state, DOORBELL);
}

/** Milliseconds every core of the machine has been busy (not idle) since boot. */
function machineCpuMs(): { busy: number } {
  let busy = 0;
  for (const { times } of cpus()) busy += times.user + times.nice + times.sys + times.irq;
  return { busy };
}

let shared: SandboxThread | undefined;

/** The process's workflow thread, shared by every sandbox. */
export function workflowThread(): SandboxThread {
  shared ??= new SandboxThread();
  return shared;
}
