/**
 * Run by sandbox.test.ts in a child process, because what it exercises can abort the process:
 * workflow code that never yields, under a 200 ms activation timeout. Prints what the host saw.
 */
import { fileURLToPath } from 'node:url';
import { RunExecutor } from '../../src/runtime/executor.js';
import { loadWorkflowCode } from '../../src/runtime/workflow-code.js';

const workflowsPath = fileURLToPath(new URL('./fixtures/api/src/workflows/index.ts', import.meta.url));
const activitiesPath = fileURLToPath(new URL('./fixtures/api/src/activities/index.ts', import.meta.url));
const code = await loadWorkflowCode({ workflowsPath, activitiesPath, activationTimeoutMs: 200 });
try {
  RunExecutor.start(
    {
      workflowType: 'spinsNow',
      workflowId: 'spin',
      runId: 'run-1',
      firstRunId: 'run-1',
      args: [],
      randomnessSeed: 'seed',
      attempt: 1,
    },
    Date.now(),
    { sandbox: code.sandbox },
  );
  console.log('no error');
} catch (error) {
  console.log(`${(error as Error).name}: ${(error as Error).message}`);
}
setTimeout(() => console.log('host survived'), 20);

// Replays that wait on the workflow thread while another deadlocks it: the one that loops fails
// with the diagnostic, the one queued behind it is made again on a new thread and succeeds.
const startedOf = (workflowType: string, runId: string) => ({
  eventId: 1,
  eventTime: new Date().toISOString(),
  type: 'WorkflowExecutionStarted' as const,
  formatVersion: 1,
  workflowType,
  workflowId: runId,
  runId,
  firstRunId: runId,
  args: [],
  randomnessSeed: 'seed',
  attempt: 1,
});
const looping = RunExecutor.replayAsync([startedOf('spinsNow', 'spin-2')], { sandbox: code.sandbox });
const queued = RunExecutor.replayAsync([startedOf('updatable', 'queued-1')], { sandbox: code.sandbox });
const [loopOutcome, queuedOutcome] = await Promise.allSettled([looping, queued]);
console.log(
  `async replay that loops: ${loopOutcome.status === 'rejected' ? (loopOutcome.reason as Error).name : 'no error'}`,
);
console.log(
  `async replay queued behind it: ${queuedOutcome.status === 'fulfilled' ? queuedOutcome.value.executor.status : (queuedOutcome.reason as Error).message}`,
);

// Through the engine: the loop starts after a timer fires, inside a mailbox batch that shares one
// watchdog. The run is paused with the diagnostic; the engine and the process keep going.
const { TestWorkflowEnvironment } = await import('../../src/testing/index.js');
const env = await TestWorkflowEnvironment.createTimeSkipping({
  workflowsPath,
  activitiesPath,
  activationTimeoutMs: 200,
});
// A synchronous call made while an asynchronous one loops: the loop is blamed, never the call that
// waited behind it (that one is answered, or told to try again).
const loopingAsync = RunExecutor.replayAsync([startedOf('spinsNow', 'spin-3')], { sandbox: code.sandbox });
let waited = 'answered';
try {
  RunExecutor.replay([startedOf('updatable', 'sync-1')], { sandbox: code.sandbox });
} catch (error) {
  waited = (error as Error).name;
}
const [loopingAsyncOutcome] = await Promise.allSettled([loopingAsync]);
console.log(
  `async call that loops: ${loopingAsyncOutcome.status === 'rejected' ? (loopingAsyncOutcome.reason as Error).name : 'no error'}; sync call behind it: ${waited}`,
);

// A run whose code lives in the same workflow thread: the deadlock stops that thread, and the run is
// rebuilt from its history when it is next needed, with its state.
const bystander = await env.client.start('updatable', { workflowId: 'bystander', args: [] });
await bystander.signal('add', 'a');
await env.client.start('spins', { workflowId: 'spin-later', args: [] });
await env.sleep('2 seconds');
const described = await env.engine.describe({ workflowId: 'spin-later' });
console.log(`paused: ${described.paused?.reason ?? 'no'}`);
console.log(`bystander holds: ${JSON.stringify(await bystander.query('items'))}`);
await bystander.signal('add', 'b');
await bystander.signal('go');
console.log(`bystander result: ${JSON.stringify(await bystander.result())}`);
await env.teardown();
