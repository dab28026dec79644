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
import { condition, defineSignal, proxyActivities, setHandler, sleep } from 'wfkit/workflow';
import type * as activities from '../activities/index.js';

const { work } = proxyActivities<typeof activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '50ms', maximumAttempts: 5 },
});

export const poke = defineSignal<[string]>('poke');

/**
 * \`steps\` activities one after the other (a short timer after every third), then waits until it
 * has received \`pokes\` signals. Returns every result and every signal, in order.
 */
export async function tortured(
  ledger: string,
  steps: number,
  pokes: number,
): Promise<{ results: string[]; pokes: string[] }> {
  const received: string[] = [];
  setHandler(poke, (value) => {
    received.push(value);
  });
  const results: string[] = [];
  for (let i = 0; i < steps; i++) {
    results.push(await work(ledger, 's' + i, (i * 37) % 60));
    if (i % 3 === 2) await sleep(40);
  }
  await condition(() => received.length >= pokes);
  return { results, pokes: received };
}
`;

export function tortureProject(): Record<string, string> {
  return {
    'src/workflows/index.ts': TORTURE_WORKFLOWS,
    'src/activities/index.ts': TORTURE_ACTIVITIES,
  };
}

/** What `tortured(ledger, steps, pokes)` returns when every signal `p0..p{pokes-1}` was delivered once. */
export function expectedResult(steps: number, pokes: number): { results: string[]; pokes: string[] } {
  return {
    results: Array.from({ length: steps }, (_, i) => `s${i}:done`),
    pokes: Array.from({ length: pokes }, (_, i) => `p${i}`),
  };
}
