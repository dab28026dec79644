import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { type TestEnvironmentOptions, TestWorkflowEnvironment } from 'wfkit/testing';
import * as defaultActivities from './fixtures/api/src/activities/index.js';

export const workflowsPath = fileURLToPath(new URL('./fixtures/api/src/workflows/index.ts', import.meta.url));
export const START = Date.parse('2024-05-01T10:00:00.000Z');

let current: TestWorkflowEnvironment | undefined;

/** A time-skipping environment over the api fixture, torn down after the test. */
export async function testEnv(
  activities: TestEnvironmentOptions['activities'] = {},
  options: Partial<TestEnvironmentOptions> = {},
): Promise<TestWorkflowEnvironment> {
  current = await TestWorkflowEnvironment.createTimeSkipping({
    workflowsPath,
    activities: { ...defaultActivities, ...activities },
    startTime: START,
    ...options,
  });
  return current;
}

export function tearDownEnvAfterEach(): void {
  afterEach(async () => {
    await current?.teardown();
    current = undefined;
  });
}

/** What a test reads of a rejection: the error and its failure cause. */
export type Rejection = Error & { cause: Error & { timeoutType?: string } };

/** The rejection of `promise` (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Rejection> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: Rejection) => error,
  );
}
