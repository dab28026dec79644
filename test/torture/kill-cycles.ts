/**
 * Many concurrent workflows under repeated kill -9 of `wf dev` at random instants. After every
 * restart, every event acknowledged before the kill must still be there, unchanged: the events the
 * event stream reported (they are sent only once durable), the runs whose start the API answered, the
 * signals it answered. At the end every workflow must have finished with the right result, and no
 * activity whose completion was durable at a kill may have run again.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expectedResult, TALLY, tortureProject } from './project.js';
import {
  api,
  canonical,
  check,
  completedActivityKeys,
  type DevProcess,
  deadline,
  freePort,
  makeProject,
  random,
  readStoreFiles,
  sleep,
  startDev,
  TortureFailure,
  Unreachable,
} from './support.js';

export interface KillCycleOptions {
  /** How long to keep killing; the runs then finish without kills. */
  durationMs: number;
  /** Workflows running at once. */
  concurrency: number;
  /** Activities per workflow. */
  steps: number;
  /** Signals per workflow. */
  pokes: number;
  seed: number;
  log: (line: string) => void;
}

export interface KillCycleFigures {
  cycles: number;
  runsStarted: number;
  runsCompleted: number;
  /** Events seen on the event stream before a kill, each checked after the restarts that followed. */
  eventsSeen: number;
  /** Comparisons of a seen event with the history after a restart. */
  eventChecks: number;
  signalsAcknowledged: number;
  updatesAcknowledged: number;
  activityExecutions: number;
  /** Executions of an activity that was in flight at a kill (allowed: at-least-once). */
  repeatedInFlight: number;
  /** Executions of an activity whose completion was durable before (must be 0). */
  completedRanTwice: number;
  secondServerRefusals: number;
  /** Signal retries that found the run closed by the first attempt, whose answer a kill lost. */
  signalRetriesOnClosedRun: number;
  /** The same for updates. */
  updateRetriesOnClosedRun: number;
  ms: number;
}

interface Flow {
  workflowId: string;
  runId?: string;
  pokesAcked: number;
  /** The result the API answered for the run's update, once it did. */
  updateAcked?: unknown;
  done: boolean;
}

interface ApiError {
  error?: { code?: string };
}

interface LedgerLine {
  key: string;
  name: string;
  attempt: number;
  pid: number;
}

export async function runKillCycles(options: KillCycleOptions): Promise<KillCycleFigures> {
  const t0 = Date.now();
  const rand = random(options.seed);
  const project = await makeProject(tortureProject());
  const storeDir = path.join(project, '.wf');
  const ledger = path.join(project, 'ledger.jsonl');
  const port = await freePort();
  const figures: KillCycleFigures = {
    cycles: 0,
    runsStarted: 0,
    runsCompleted: 0,
    eventsSeen: 0,
    eventChecks: 0,
    signalsAcknowledged: 0,
    updatesAcknowledged: 0,
    activityExecutions: 0,
    repeatedInFlight: 0,
    completedRanTwice: 0,
    secondServerRefusals: 0,
    signalRetriesOnClosedRun: 0,
    updateRetriesOnClosedRun: 0,
    ms: 0,
  };
  /** runId -> eventId -> the event as the stream reported it. */
  const seen = new Map<string, Map<number, string>>();
  const flows = new Map<string, Flow>();
  /** pid of each incarnation -> keys of activities whose completion was durable when it was killed. */
  const durableAtKill = new Map<number, Set<string>>();
  const incarnations: number[] = [];

  let dev: DevProcess = await startDev(project, port);
  incarnations.push(dev.pid);
  let generation = 0;
  let up = true;
  let wakeUp: (() => void) | undefined;
  let serverUp = Promise.resolve();
  const base = dev.url;
  let stopStream: (() => void) | undefined;

  const watchEvents = () => {
    const controller = new AbortController();
    stopStream = () => controller.abort();
    void (async () => {
      try {
        const response = await fetch(`${base}/api/v1/events`, { signal: controller.signal });
        const reader = response.body!.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += decoder.decode(value, { stream: true });
          let cut = buffer.indexOf('\n\n');
          while (cut !== -1) {
            const message = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            cut = buffer.indexOf('\n\n');
            const data = message
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (!data) continue;
            const notice = JSON.parse(data) as { runId: string; event: { eventId: number } };
            let events = seen.get(notice.runId);
            if (!events) {
              events = new Map();
              seen.set(notice.runId, events);
            }
            if (!events.has(notice.event.eventId)) figures.eventsSeen++;
            events.set(notice.event.eventId, canonical(notice.event));
          }
        }
      } catch {
        // The server was killed: the stream ends; a new one starts with the next server.
      }
    })();
  };
  watchEvents();

  /** Retries a request until the server answers with a success, across kills. */
  const call = async (
    method: 'GET' | 'POST',
    route: string,
    body: unknown,
    ok: (status: number, body: unknown, retry: boolean) => boolean | Promise<boolean>,
  ): Promise<unknown> => {
    for (let attempt = 0; ; attempt++) {
      await serverUp;
      const gen = generation;
      try {
        const answer = await api(base, method, route, body);
        if (await ok(answer.status, answer.body, attempt > 0)) return answer.body;
        // 503 while the engine starts or stops; anything else is a failure of the suite's model.
        check(answer.status === 503 || !up || gen !== generation, () => {
          return `${method} ${route} answered ${answer.status}: ${JSON.stringify(answer.body)}`;
        });
      } catch (error) {
        if (!(error instanceof Unreachable)) throw error;
      }
      check(attempt < 2000, () => `${method} ${route} never succeeded`);
      await sleep(gen === generation && up ? 50 : 20);
    }
  };

  let starting = true;
  let nextId = 0;
  const drive = async (): Promise<void> => {
    const workflowId = `t-${nextId++}`;
    const flow: Flow = { workflowId, pokesAcked: 0, done: false };
    flows.set(workflowId, flow);
    const started = (await call(
      'POST',
      '/api/v1/workflows',
      {
        workflowType: 'tortured',
        workflowId,
        args: [ledger, options.steps, options.pokes],
        // A retry after a kill finds the run its first attempt started (if that was recorded).
        workflowIdConflictPolicy: 'USE_EXISTING',
      },
      (s) => s === 200 || s === 201,
    )) as { runId: string };
    flow.runId = started.runId;
    figures.runsStarted++;
    for (let k = 0; k < options.pokes; k++) {
      await sleep(rand() * 400);
      await call(
        'POST',
        `/api/v1/workflows/${workflowId}/signal/poke?runId=${started.runId}`,
        { args: [`p${k}`], requestId: `${workflowId}-p${k}` },
        async (status, answer, retry) => {
          if (status === 200) return true;
          // The first attempt was recorded and closed the run, and its answer was lost in a kill:
          // the retry finds the run closed. Fine if the signal is in the history.
          if (status !== 409 || !retry || (answer as ApiError).error?.code !== 'NOT_RUNNING') return false;
          const history = await api(
            base,
            'GET',
            `/api/v1/workflows/${workflowId}/history?runId=${started.runId}`,
          );
          const events = (history.body as { events: { type: string; requestId?: string }[] }).events;
          if (events.some((e) => e.type === 'WorkflowSignaled' && e.requestId === `${workflowId}-p${k}`)) {
            figures.signalRetriesOnClosedRun++;
            return true;
          }
          return false;
        },
      );
      flow.pokesAcked++;
      figures.signalsAcknowledged++;
    }
    const updateId = `${workflowId}-u`;
    const updated = (await call(
      'POST',
      `/api/v1/workflows/${workflowId}/update/tally?runId=${started.runId}`,
      { args: [TALLY], updateId },
      async (status, answer, retry) => {
        if (status === 200) return true;
        // As for signals: the first attempt closed the run, and its answer was lost in a kill.
        if (status !== 409 || !retry || (answer as ApiError).error?.code !== 'NOT_RUNNING') return false;
        const history = await api(
          base,
          'GET',
          `/api/v1/workflows/${workflowId}/history?runId=${started.runId}`,
        );
        const events = (history.body as { events: { type: string; updateId?: string; result?: unknown }[] })
          .events;
        const done = events.find((e) => e.type === 'WorkflowUpdateCompleted' && e.updateId === updateId);
        if (!done) return false;
        figures.updateRetriesOnClosedRun++;
        (answer as { result?: unknown }).result = done.result;
        return true;
      },
    )) as { result?: unknown };
    check(
      updated.result === TALLY,
      () => `update ${updateId} answered ${JSON.stringify(updated)}, not ${TALLY}`,
    );
    flow.updateAcked = updated.result;
    figures.updatesAcknowledged++;
    for (;;) {
      const outcome = (await call(
        'GET',
        `/api/v1/workflows/${workflowId}/result?runId=${started.runId}&wait=5000`,
        undefined,
        (s) => s === 200 || s === 202,
      )) as { status: string; result?: unknown };
      if (outcome.status === 'RUNNING') continue;
      check(
        outcome.status === 'COMPLETED' &&
          canonical(outcome.result) === canonical(expectedResult(options.steps, options.pokes)),
        () => `${workflowId} ended ${JSON.stringify(outcome)}`,
      );
      flow.done = true;
      figures.runsCompleted++;
      return;
    }
  };
  const pool: Promise<void>[] = [];
  const failures: unknown[] = [];
  const spawnDriver = (): Promise<void> =>
    drive()
      .catch((error: unknown) => {
        failures.push(error);
      })
      .then(() => {
        if (starting && failures.length === 0) return spawnDriver();
      });
  for (let i = 0; i < options.concurrency; i++) pool.push(spawnDriver());

  /** After a restart: everything acknowledged before is there, unchanged. */
  const verify = async (when: string) => {
    const byRunId = new Map([...flows.values()].map((f) => [f.runId, f]));
    const checkRun = async ([runId, events]: [string, Map<number, string>]) => {
      const flow = byRunId.get(runId);
      if (!flow) return; // reported before its start was answered: checked once the answer comes
      const answer = await api(base, 'GET', `/api/v1/workflows/${flow.workflowId}/history?runId=${runId}`);
      check(answer.status === 200, () => `${when}: history of ${flow.workflowId} answered ${answer.status}`);
      const history = (answer.body as { events: { eventId: number }[] }).events;
      for (const [eventId, text] of events) {
        const now = history[eventId - 1];
        figures.eventChecks++;
        check(
          now !== undefined && canonical(now) === text,
          () =>
            `${when}: event ${eventId} of ${flow.workflowId} (run ${runId}) was acknowledged as\n  ${text}\nand is now\n  ${now === undefined ? '(missing)' : canonical(now)}`,
        );
      }
      if (flow.updateAcked !== undefined) {
        const completed = history.find(
          (e) =>
            (e as { type?: string }).type === 'WorkflowUpdateCompleted' &&
            (e as { updateId?: string }).updateId === `${flow.workflowId}-u`,
        ) as { result?: unknown } | undefined;
        check(
          completed !== undefined && canonical(completed.result) === canonical(flow.updateAcked),
          () =>
            `${when}: the acknowledged update of ${flow.workflowId} is ${completed ? `recorded as ${JSON.stringify(completed.result)}` : 'missing'}`,
        );
      }
      const signals = history.filter((e) => (e as { type?: string }).type === 'WorkflowSignaled').length;
      check(
        signals >= flow.pokesAcked,
        () => `${when}: ${flow.workflowId} has ${signals} signals, ${flow.pokesAcked} were acknowledged`,
      );
    };
    // What was seen up to now (the stream goes on meanwhile): each of these must be in the answers.
    const runs: [string, Map<number, string>][] = [...seen].map(([runId, events]) => [
      runId,
      new Map(events),
    ]);
    // Runs whose start was answered but whose events the stream never showed: they must exist too.
    for (const flow of flows.values()) {
      if (flow.runId && !seen.has(flow.runId)) runs.push([flow.runId, new Map()]);
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < runs.length) await checkRun(runs[next++]!);
      }),
    );
  };

  const end = t0 + options.durationMs;
  try {
    while (Date.now() < end && failures.length === 0) {
      await sleep(300 + rand() * 1500);
      // kill -9 at this instant, whatever it is doing.
      up = false;
      serverUp = new Promise<void>((resolve) => {
        wakeUp = resolve;
      });
      const killed = dev;
      killed.proc.kill('SIGKILL');
      await killed.exited;
      stopStream?.();
      figures.cycles++;
      // What was durable when it died, straight from the files.
      const durable = new Set<string>();
      for (const [runId, events] of await readStoreFiles(storeDir)) {
        const workflowId = String(events[0]?.workflowId);
        for (const key of completedActivityKeys(workflowId, runId, events)) durable.add(key);
      }
      durableAtKill.set(killed.pid, durable);
      dev = await startDev(project, port);
      incarnations.push(dev.pid);
      generation++;
      watchEvents();
      await verify(`after kill ${figures.cycles}`);
      if (figures.cycles % 4 === 0) {
        // A second server on the same store is refused while this one runs.
        const second = await startDev(project, await freePort(), { expectExit: true });
        check(
          (await second.exited) === 1 && second.tail().includes(`another wf process (pid ${dev.pid},`),
          () => `a second wf dev on the store was not refused:\n${second.tail()}`,
        );
        figures.secondServerRefusals++;
      }
      up = true;
      wakeUp?.();
      if (figures.cycles % 5 === 0) {
        options.log(
          `  ${figures.cycles} kills, ${figures.runsStarted} runs started, ${figures.runsCompleted} completed, ${figures.eventsSeen} events seen`,
        );
      }
    }
    starting = false;
    // No more kills: every run must now finish.
    const finished = Promise.all(pool);
    const late = deadline(120_000).then(() => 'late' as const);
    const outcome = await Promise.race([finished.then(() => 'done' as const), late]);
    if (failures.length > 0) throw failures[0];
    check(
      outcome === 'done',
      () =>
        `runs did not finish within 2 minutes after the last kill: ${[...flows.values()]
          .filter((f) => !f.done)
          .map((f) => f.workflowId)
          .join(', ')}\n${dev.tail()}`,
    );
    await verify('at the end');
    checkLedger(await readFile(ledger, 'utf8').catch(() => ''), incarnations, durableAtKill, figures);
  } catch (error) {
    if (error instanceof TortureFailure)
      error.message += `\n(the project and its store are kept in ${project})`;
    throw error;
  } finally {
    stopStream?.();
    dev.proc.kill('SIGTERM');
    await Promise.race([dev.exited, deadline(10_000)]);
    if (dev.proc.exitCode === null) dev.proc.kill('SIGKILL');
    wakeUp?.();
  }
  if (failures.length > 0) throw failures[0];
  figures.ms = Date.now() - t0;
  const { rm } = await import('node:fs/promises');
  await rm(project, { recursive: true, force: true });
  return figures;
}

/**
 * Every activity execution, by idempotency key and by incarnation of the server: an activity runs
 * again only in a later incarnation, and only if its completion was not durable when the one that
 * ran it before was killed.
 */
function checkLedger(
  text: string,
  incarnations: number[],
  durableAtKill: Map<number, Set<string>>,
  figures: KillCycleFigures,
): void {
  const lines: LedgerLine[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    lines.push(JSON.parse(line) as LedgerLine);
  }
  figures.activityExecutions = lines.length;
  const byKey = new Map<string, LedgerLine[]>();
  for (const line of lines) {
    const list = byKey.get(line.key) ?? [];
    list.push(line);
    byKey.set(line.key, list);
  }
  for (const [key, runs] of byKey) {
    for (let i = 1; i < runs.length; i++) {
      const before = runs[i - 1]!;
      const again = runs[i]!;
      const order = incarnations.indexOf(before.pid);
      check(
        incarnations.indexOf(again.pid) > order,
        () => `activity ${key} ran twice in one wf dev (pid ${again.pid}): ${JSON.stringify(runs)}`,
      );
      if (durableAtKill.get(before.pid)?.has(key)) {
        figures.completedRanTwice++;
        throw new TortureFailure(
          `activity ${key} ran again after its completion was durable (pid ${before.pid} killed, then pid ${again.pid} ran it)`,
        );
      }
      figures.repeatedInFlight++;
    }
  }
}

export { TortureFailure };
