/** Workflows in the style of Temporal's time-skipping examples. */
import { condition, defineSignal, proxyActivities, setHandler, sleep } from 'wfkit/workflow';
import type * as activities from '../activities/index.js';

const { longRunning, notify } = proxyActivities<typeof activities>({ startToCloseTimeout: '30 days' });

/** Temporal's `env.sleep` example: a long activity raced against a timer. */
export async function raceActivityAndTimer(): Promise<string> {
  return await Promise.race([sleep('5 days').then(() => 'timer'), longRunning()]);
}

/** Reminds after a day, while an activity runs alongside. */
export async function remindDuringActivity(): Promise<string> {
  const work = longRunning();
  await sleep('1 day');
  await notify('reminder');
  return await work;
}

export const approve = defineSignal('approve');

/** Waits for approval for up to a week. */
export async function awaitApproval(): Promise<string> {
  let approved = false;
  setHandler(approve, () => {
    approved = true;
  });
  return (await condition(() => approved, '7 days')) ? 'approved' : 'timed out';
}
