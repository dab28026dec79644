import { sleep, workflowInfo } from 'wfkit/workflow';

/** A scheduled job: reports which run it is. */
export async function tick(label: string): Promise<string> {
  return `${label} ${workflowInfo().workflowId}`;
}

/** A scheduled job that runs longer than its schedule's interval. */
export async function slowTick(minutes: number): Promise<number> {
  await sleep(`${minutes} minutes`);
  return minutes;
}
