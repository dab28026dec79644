import {
  condition,
  defineQuery,
  defineSignal,
  executeChild,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
} from 'wfkit/workflow';
import type * as activities from '../activities/index.js';

const { step } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });

export const go = defineSignal<[string]>('go');
export const state = defineQuery<string[]>('state');

/** Waits for a signal, then runs one step per signal payload and a timer. */
export async function waiter(): Promise<string[]> {
  const done: string[] = [];
  let next: string | undefined;
  setHandler(go, (value) => {
    next = value;
  });
  setHandler(state, () => done);
  await condition(() => next !== undefined);
  done.push(await step(next!));
  await sleep('1 hour');
  done.push(await step('after sleep'));
  return done;
}

export async function steps(count: number): Promise<number> {
  for (let i = 0; i < count; i++) await step(String(i));
  return count;
}

export async function sleepy(): Promise<string> {
  await sleep('1 day');
  return 'rested';
}

export async function parentOfSleepy(): Promise<string> {
  return executeChild(sleepy, { workflowId: 'sleepy-child' });
}

/** Signals another workflow, then one that does not exist. */
export async function signalsOthers(target: string): Promise<string> {
  await getExternalWorkflowHandle(target).signal(go, 'from a workflow');
  try {
    await getExternalWorkflowHandle('nobody-here').signal(go, 'lost');
    return 'delivered to nobody?';
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

/** Starts a waiter as its child and signals it through the child's handle. */
export async function parentSignalsChild(): Promise<string[]> {
  const child = await startChild(waiter, { workflowId: 'signalled-child' });
  await child.signal(go, 'from the parent');
  return child.result();
}

/** Returns the signals it got before its first await: what signal-with-start must deliver. */
export async function collector(): Promise<string[]> {
  const got: string[] = [];
  setHandler(go, (value) => {
    got.push(value);
  });
  return got;
}

/** Randomness and the stateless web APIs workflow code may use. */
export async function entropy(): Promise<{
  uuid: string;
  bytes: number[];
  z: string | null;
  encoded: number;
}> {
  return {
    uuid: crypto.randomUUID(),
    bytes: Array.from(crypto.getRandomValues(new Uint8Array(4))),
    z: new URL('https://example.test/p?z=1').searchParams.get('z'),
    encoded: new TextEncoder().encode('hé').length,
  };
}

/** Asks another workflow to cancel, then one that does not exist. */
export async function cancelsOther(target: string): Promise<string> {
  await getExternalWorkflowHandle(target).cancel();
  try {
    await getExternalWorkflowHandle('nobody-here').cancel();
    return 'cancelled nobody?';
  } catch (error) {
    return (error as Error).message;
  }
}

/** Local-time readings, which must not depend on the host's time zone. */
export async function localTime(): Promise<Record<string, unknown>> {
  const epoch = new Date(0);
  return {
    hours: epoch.getHours(),
    offset: epoch.getTimezoneOffset(),
    text: epoch.toString(),
    locale: epoch.toLocaleString('en-US'),
    fromParts: new Date(2026, 0, 1, 12).getTime(),
  };
}
