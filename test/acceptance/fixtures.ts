/**
 * Sources of the throwaway projects the acceptance tests run `wf dev` on. They import `wfkit/*`,
 * which wf resolves to itself (no npm install in the project).
 */

/**
 * `step` appends one JSON line per execution to a counter file ({name, key, attempt}), then, when
 * given a flag file, waits until it exists (so a test can hold it "in flight" and kill -9 wf dev).
 */
export const COUNTING_ACTIVITIES = `
import { appendFileSync, existsSync } from 'node:fs';
import { ApplicationFailure, Context } from 'wfkit/activity';

export async function step(counter: string, name: string, flag: string | null): Promise<string> {
  const { idempotencyKey, attempt } = Context.current().info;
  appendFileSync(counter, JSON.stringify({ name, key: idempotencyKey, attempt }) + '\\n');
  if (flag) {
    while (!existsSync(flag)) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return name + ':done';
}

export async function explode(message: string): Promise<never> {
  throw ApplicationFailure.nonRetryable(message, 'Exploded');
}
`;

export const CRASH_WORKFLOWS = `
import { condition, defineQuery, defineSignal, defineUpdate, proxyActivities, setHandler, sleep } from 'wfkit/workflow';
import type * as activities from '../activities/index.js';

const { step, explode } = proxyActivities<typeof activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '100ms', maximumAttempts: 3 },
});

/** Steps one after the other; flags[i] (or null) holds step i until that file exists. */
export async function steps(counter: string, names: string[], flags: (string | null)[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < names.length; i++) out.push(await step(counter, names[i]!, flags[i] ?? null));
  return out;
}

export async function timerFlow(counter: string): Promise<string[]> {
  const a = await step(counter, 'before-timer', null);
  await sleep('3s');
  const b = await step(counter, 'after-timer', null);
  return [a, b];
}

export const go = defineSignal<[string]>('go');

export async function signalFlow(counter: string): Promise<string> {
  let got: string | undefined;
  setHandler(go, (value) => {
    got = value;
  });
  await step(counter, 'before-signal', null);
  await condition(() => got !== undefined);
  await step(counter, 'after-signal', null);
  return 'signalled:' + got;
}

export const approve = defineSignal<[string]>('approve');
export const progress = defineQuery<{ state: string; approvedBy: string | null; limit: number }>('progress');
export const setLimit = defineUpdate<number, [number]>('setLimit');

/** Waits up to \`timeout\` (2 s by default) for an approval. */
export async function approval(timeout: string = '2s'): Promise<string> {
  let state = 'waiting for approval';
  let approvedBy: string | null = null;
  let limit = 0;
  setHandler(progress, () => ({ state, approvedBy, limit }));
  setHandler(approve, (who) => {
    approvedBy = who;
  });
  setHandler(
    setLimit,
    (n) => {
      limit = n;
      return limit;
    },
    {
      validator: (n) => {
        if (typeof n !== 'number' || !(n > 0)) throw new Error('limit must be a positive number, got ' + JSON.stringify(n));
      },
    },
  );
  const ok = await condition(() => approvedBy !== null, timeout);
  state = ok ? 'approved' : 'timed out';
  return ok ? 'approved by ' + approvedBy : 'timed out';
}

export async function failing(message: string): Promise<string> {
  return await explode(message);
}

export async function quick(value: string): Promise<string> {
  return 'quick:' + value;
}

export async function waiting(): Promise<string> {
  let done = false;
  setHandler(go, () => {
    done = true;
  });
  await condition(() => done);
  return 'released';
}
`;

export function crashProject(): Record<string, string> {
  return {
    'src/workflows/index.ts': CRASH_WORKFLOWS,
    'src/activities/index.ts': COUNTING_ACTIVITIES,
  };
}
