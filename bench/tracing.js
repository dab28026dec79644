// The cost of OpenTelemetry tracing per engine step (case `tracing`).
import { MemoryHistoryStore } from '../dist/history/memory-store.js';
import { WorkflowEngine } from '../dist/runtime/engine/index.js';
import { loadWorkflowCode } from '../dist/runtime/workflow-code.js';
import { ACTIVITIES, activities, execute, gc, median, medianMs, now, row, WORKFLOWS } from './lib.js';

const QUICK = process.env.WF_BENCH_QUICK === '1';
const SERIAL_STEPS = 200;

/**
 * The engine step on the memory store with tracing off (no span sink: what every server without
 * OTEL_* pays) and on (the OpenTelemetry SDK of `wf dev --otel`, exporting OTLP/HTTP JSON to a
 * receiver on loopback that discards it). Rounds alternate off/on so the machine's load hits both.
 */
export async function tracingCase() {
  process.env.OTEL_BSP_MAX_QUEUE_SIZE ??= '100000';
  const { spawn } = await import('node:child_process');
  const { startOtelSdk } = await import('../dist/devserver/otel-sdk.js');
  // The receiver runs in its own process: its work is not the exporter's.
  const receiver = spawn(
    process.execPath,
    [
      '-e',
      "let n=0;require('node:http').createServer((q,r)=>{q.on('data',(c)=>{n+=c.length});q.on('end',()=>r.end('{}'))})" +
        ".listen(0,'127.0.0.1',function(){console.log(this.address().port)});process.on('SIGTERM',()=>{console.log(n);process.exit(0)})",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let receiverOut = '';
  receiver.stdout.on('data', (chunk) => {
    receiverOut += chunk;
  });
  while (!receiverOut.includes('\n')) await new Promise((resolve) => setTimeout(resolve, 10));
  const port = Number(receiverOut.trim());
  const url = `http://127.0.0.1:${port}/v1/traces`;
  const traces = startOtelSdk({ url, protocol: 'http/json', serviceName: 'bench' });
  const code = await loadWorkflowCode({ workflowsPath: WORKFLOWS, activitiesPath: ACTIVITIES });
  const off = new WorkflowEngine({ store: new MemoryHistoryStore(), code, activities });
  const on = new WorkflowEngine({
    store: new MemoryHistoryStore(),
    code,
    activities,
    tracing: traces.tracing,
  });
  const rounds = QUICK ? 4 : 10;
  const times = { off: [], on: [] };
  // CPU time of this process per step: what tracing costs, less blurred by other processes' load.
  const cpuTimes = { off: [], on: [] };
  try {
    await execute(off, 'steps', 'warm-off', [50]);
    await execute(on, 'steps', 'warm-on', [50]);
    for (let i = 0; i < rounds; i++) {
      const pair = [
        ['off', off],
        ['on', on],
      ];
      // Alternate which goes first, so that neither always follows the other's garbage.
      for (const [name, engine] of i % 2 ? pair.reverse() : pair) {
        gc();
        const start = now();
        const cpuStart = process.cpuUsage();
        await execute(engine, 'steps', `${name}-${i}`, [SERIAL_STEPS]);
        const cpu = process.cpuUsage(cpuStart);
        times[name].push(((now() - start) / SERIAL_STEPS) * 1000);
        cpuTimes[name].push((cpu.user + cpu.system) / SERIAL_STEPS);
      }
    }
    await traces.shutdown();
  } finally {
    await off.shutdown();
    await on.shutdown();
    receiver.kill('SIGTERM');
    await new Promise((resolve) => receiver.once('exit', resolve));
  }
  const spansBytes = Number(receiverOut.trim().split('\n')[1] ?? 0);
  // wfkit/client wraps each call in a span; without an SDK in the application it is @opentelemetry/api's no-op.
  const { clientSpan } = await import('../dist/client/tracing.js');
  const call = async () => 1;
  const calls = 100_000;
  const plainUs = await medianMs(3, async () => {
    for (let i = 0; i < calls; i++) await call();
  });
  const wrappedUs = await medianMs(3, async () => {
    for (let i = 0; i < calls; i++) await clientSpan('StartWorkflow:steps', { 'wf.workflow.id': 'x' }, call);
  });
  const clientSpanUs = ((wrappedUs - plainUs) / calls) * 1000;
  const offUs = median(times.off);
  const onUs = median(times.on);
  const offCpu = median(cpuTimes.off);
  const onCpu = median(cpuTimes.on);
  const how = `µs per step of a steps(${SERIAL_STEPS}) run, median of ${rounds} rounds (off and on alternating, which goes first too, after a forced GC)`;
  return [
    row('engine step, memory store, tracing off: CPU time', offCpu, 'µs/step', {
      id: 'tracing-off-cpu',
      detail: { cpu: cpuTimes.off, wall: times.off, wallMedian: offUs, how },
    }),
    row('engine step, memory store, tracing on (OTLP/HTTP to loopback): CPU time', onCpu, 'µs/step', {
      id: 'tracing-on-cpu',
      detail: { cpu: cpuTimes.on, wall: times.on, wallMedian: onUs, how, exportedBytes: spansBytes },
    }),
    row('tracing on minus off: CPU time', onCpu - offCpu, 'µs/step'),
    row('tracing on minus off: wall time', onUs - offUs, 'µs/step'),
    row('wfkit/client span without an SDK (no-op), per call', clientSpanUs, 'µs/call', {
      detail: {
        how: `${calls.toLocaleString('en-US')} awaited calls wrapped in clientSpan, minus the same unwrapped; median of 3`,
      },
    }),
  ];
}
