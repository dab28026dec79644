/**
 * The project the torture suite runs `wf dev` on. Every activity execution is appended to a side file
 * (one JSON line: idempotency key, name, pid of the wf dev that ran it) before it does anything, so
 * the suite can tell which activities ran more than once, and in which incarnation of the server.
 */

export const TORTURE_ACTIVITIES = `
import { appendFileSync } from 'node:fs';
import { Context } from 'wfkit/activity';

export async function work(ledger: string, name: string, delayMs: number): Promise<string> {
  const { idempotencyKey, attempt } = Context.current().info;
  appendFileSync(ledger, JSON.stringify({ key: idempotencyKey, name, attempt, pid: process.pid }) + '\\n');
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  return name + ':done';
}
`;

export const TORTURE_WORKFLOWS = `
import { condition, defineSignal, defineUpdate, proxyActivities, setHandler, sleep } from 'wfkit/workflow';
import type * as activities from '../activities/index.js';

const { work } = proxyActivities<typeof activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '50ms', maximumAttempts: 5 },
});

export const poke = defineSignal<[string]>('poke');
export const tally = defineUpdate<number, [number]>('tally');

/**
 * \`steps\` activities one after the other (a short timer after every third), then waits until it
 * has received \`pokes\` signals and a \`tally\` update. Returns every result and every signal, in
 * order, and the tally (the sum of the updates' arguments: each update must count once).
 */
export async function tortured(
  ledger: string,
  steps: number,
  pokes: number,
): Promise<{ results: string[]; pokes: string[]; tally: number }> {
  const received: string[] = [];
  let total = 0;
  setHandler(poke, (value) => {
    received.push(value);
  });
  setHandler(tally, (n) => {
    total += n;
    return total;
  });
  const results: string[] = [];
  for (let i = 0; i < steps; i++) {
    results.push(await work(ledger, 's' + i, (i * 37) % 60));
    if (i % 3 === 2) await sleep(40);
  }
  await condition(() => received.length >= pokes && total > 0);
  return { results, pokes: received, tally: total };
}
`;

export function tortureProject(): Record<string, string> {
  return {
    'src/workflows/index.ts': TORTURE_WORKFLOWS,
    'src/activities/index.ts': TORTURE_ACTIVITIES,
  };
}

/** The argument of the one `tally` update each driver sends. */
export const TALLY = 5;

/**
 * What `tortured(ledger, steps, pokes)` returns when every signal `p0..p{pokes-1}` was delivered once
 * and one `tally(TALLY)` update was applied once.
 */
export function expectedResult(
  steps: number,
  pokes: number,
): { results: string[]; pokes: string[]; tally: number } {
  return {
    results: Array.from({ length: steps }, (_, i) => `s${i}:done`),
    pokes: Array.from({ length: pokes }, (_, i) => `p${i}`),
    tally: TALLY,
  };
}
