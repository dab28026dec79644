/**
 * `npm run torture`: wf's durability promises under kill -9, torn writes, damaged files, a full or
 * failing disk and a second server (docs/reliability.md). Loopback only; bounded in time.
 *
 *   npm run torture                        the fault cases, then 2 minutes of kill -9 cycles
 *   npm run torture -- --quick             about 25 s of kill -9 cycles, under a minute in all (.ci/run)
 *   npm run torture -- --duration 600      ten minutes of kill -9 cycles
 *   npm run torture -- --seed 7            the same random instants and delays as a run with seed 7
 *   npm run torture -- --json FILE         also write the figures to FILE
 *
 * Exits 1 when a promise is broken, with what was expected and what was found.
 */
import { writeFile } from 'node:fs/promises';
import { runFaultCases } from './faults.js';
import { runKillCycles } from './kill-cycles.js';
import { TortureFailure } from './support.js';

interface Args {
  durationMs: number;
  seed: number;
  concurrency: number;
  json?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { durationMs: 120_000, seed: Date.now() % 100_000, concurrency: 24 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${arg} needs a value`);
      return v!;
    };
    const number = (v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) usage(`${arg} must be a positive number, got ${JSON.stringify(v)}`);
      return n;
    };
    if (arg === '--quick') args.durationMs = 25_000;
    else if (arg === '--duration') args.durationMs = number(value()) * 1000;
    else if (arg === '--seed') args.seed = Math.floor(number(value()));
    else if (arg === '--concurrency') args.concurrency = Math.floor(number(value()));
    else if (arg === '--json') args.json = value();
    else usage(`unknown option ${arg}`);
  }
  return args;
}

function usage(problem: string): never {
  process.stderr.write(
    `${problem}\nusage: npm run torture -- [--quick | --duration SECONDS] [--seed N] [--concurrency N] [--json FILE]\n`,
  );
  process.exit(2);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const t0 = Date.now();
  log(
    `wf torture: seed ${args.seed}, ${Math.round(args.durationMs / 1000)} s of kill -9 cycles, ${args.concurrency} workflows at once`,
  );
  const faults = await runFaultCases({ log });
  const cycles = await runKillCycles({
    durationMs: args.durationMs,
    concurrency: args.concurrency,
    steps: 6,
    pokes: 2,
    seed: args.seed,
    log,
  });
  const total = Date.now() - t0;
  log('');
  log('kill -9 cycles');
  log(`  kills and restarts            ${cycles.cycles}`);
  log(
    `  runs started / completed      ${cycles.runsStarted} / ${cycles.runsCompleted} (all with the right result)`,
  );
  log(
    `  events acknowledged (stream)  ${cycles.eventsSeen} (${cycles.eventChecks} checks after restarts: all there, unchanged)`,
  );
  log(
    `  signals acknowledged          ${cycles.signalsAcknowledged} (each delivered once; ${cycles.signalRetriesOnClosedRun} retries found the run closed by the first attempt)`,
  );
  log(
    `  updates acknowledged          ${cycles.updatesAcknowledged} (each applied once; ${cycles.updateRetriesOnClosedRun} retries found the run closed by the first attempt)`,
  );
  log(`  activity executions           ${cycles.activityExecutions}`);
  log(`  repeated (in flight at kill)  ${cycles.repeatedInFlight}`);
  log(`  completed activity ran twice  ${cycles.completedRanTwice}`);
  log(`  second servers refused        ${cycles.secondServerRefusals}`);
  log(`  time                          ${(cycles.ms / 1000).toFixed(1)} s`);
  log('fault cases');
  for (const line of faults.lines) log(`  ${line}`);
  log(`total ${(total / 1000).toFixed(1)} s: every promise held`);
  if (args.json) {
    await writeFile(
      args.json,
      `${JSON.stringify({ seed: args.seed, cycles, faults: faults.figures, totalMs: total }, null, 2)}\n`,
    );
  }
}

main().then(
  // Nothing should be left running; exit anyway, so a forgotten timer cannot hold CI.
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof TortureFailure) {
      process.stderr.write(`\nwf torture: a promise was broken\n${error.message}\n`);
    } else {
      process.stderr.write(
        `\nwf torture: the suite itself failed\n${(error as Error).stack ?? String(error)}\n`,
      );
    }
    process.exit(1);
  },
);
