/** Workflows that call the activities of this project as Temporal workflows do. */
import { ActivityFailure, ApplicationFailure, proxyActivities } from 'wfkit/workflow';
import type * as activities from '../activities/index.js';

const { greet, describeSelf, chargeCard } = proxyActivities<typeof activities>({
  startToCloseTimeout: '1 minute',
});

const { fakeProgress } = proxyActivities<typeof activities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
});

const { requestApproval } = proxyActivities<typeof activities>({
  startToCloseTimeout: '1 hour',
  retry: { maximumAttempts: 2, initialInterval: '200 milliseconds' },
});

export async function greeting(name: string): Promise<string> {
  return greet(name);
}

export async function selfDescribed(): Promise<Record<string, unknown>> {
  return describeSelf();
}

export async function progress(sleepIntervalMs: number, failAt: number): Promise<number> {
  return fakeProgress(sleepIntervalMs, failAt);
}

export async function approval(approver: string): Promise<string> {
  try {
    return await requestApproval(approver);
  } catch (err) {
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
      return `refused: ${err.cause.message}`;
    }
    throw err;
  }
}

export async function payment(amountCents: number): Promise<string> {
  try {
    return await chargeCard(amountCents);
  } catch (err) {
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
      return `${err.cause.type}: ${err.cause.message} (${err.cause.category ?? 'no category'})`;
    }
    throw err;
  }
}
