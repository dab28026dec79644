import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/connect.js';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.js';
import { built, jsonLines, killAll, makeProject, removeTempDirs, spawnDev, wf } from './support.js';

const WORKFLOWS = `
import { condition, defineSignal, defineUpdate, log, proxyActivities, setHandler, sleep } from 'wfkit/workflow';
import type * as activities from '../activities/index.js';

const { greet, flaky } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '20ms', backoffCoefficient: 1, maximumAttempts: 3 },
});

export async function traced(name: string): Promise<string> {
  log.info('tracing', { name });
  const first = await greet(name);
  const second = await flaky();
  await sleep('4s');
  const third = await greet('again');
  return [first, second, third].join(' / ');
}

export async function quick(name: string): Promise<string> {
  return greet(name);
}

export const bump = defineSignal('bump');
export const add = defineUpdate<number, [number]>('add');

export async function counter(): Promise<number> {
  let total = 0;
  let bumped = false;
  setHandler(bump, () => {
    bumped = true;
  });
  setHandler(add, (n) => {
    total += n;
    return total;
  });
  await condition(() => bumped);
  return total;
}
`;

const ACTIVITIES = `
import { ApplicationFailure, Context } from 'wfkit/activity';

export async function greet(name: string): Promise<string> {
  Context.current().log.info('greeting', { name });
  return 'hello ' + name;
}

export async function flaky(): Promise<string> {
  const { attempt } = Context.current().info;
  await new Promise((resolve) => setTimeout(resolve, 100));
  if (attempt === 1) throw ApplicationFailure.retryable('first attempt fails', 'Flaky');
  return 'flaky ok on ' + attempt;
}
`;

const SERVER = 2;
const CLIENT = 3;

const count = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name).length;

describe.skipIf(!built)('acceptance: OpenTelemetry traces over OTLP/HTTP (needs a build)', () => {
  let receiver: OtlpReceiver;
  // The application's own SDK: the client's StartWorkflow span is exported here.
  const appSpans = new InMemorySpanExporter();
  const appProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(appSpans)] });
  const contextManager = new AsyncLocalStorageContextManager();

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(appProvider);
  });
  afterEach(killAll);
  afterAll(async () => {
    trace.disable();
    context.disable();
    await receiver.close();
    await removeTempDirs();
  });

  it('makes one trace from the client span to every activity attempt, and continues it after kill -9 without duplicates', async () => {
    const project = await makeProject({
      'src/workflows/index.ts': WORKFLOWS,
      'src/activities/index.ts': ACTIVITIES,
    });
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '20',
      OTEL_SERVICE_NAME: 'orders',
    };
    const dev1 = await spawnDev(project, {
      args: ['--no-watch', '--log-format', 'json'],
      env,
      ready: /Press Ctrl\+C to stop/,
    });
    expect(dev1.output()).toContain(
      `traces:     ${receiver.url}/v1/traces (OpenTelemetry OTLP http/json, service orders)`,
    );
    const client = connect({ address: dev1.url });
    const tracer = trace.getTracer('app');
    const root = await tracer.startActiveSpan('POST /orders', async (span) => {
      try {
        await client.start('traced', { workflowId: 'traced-1', args: ['ada'] });
        return span.spanContext();
      } finally {
        span.end();
      }
    });
    // SIGKILL during the sleep, once both activities' spans were exported.
    const before = await receiver.waitFor((spans) => count(spans, 'StartActivity:flaky') === 1);
    await dev1.waitFor(/"TimerStarted"/);
    const killedAt = Date.now();
    await dev1.kill('SIGKILL');
    expect(dev1.output()).not.toContain('"TimerFired"');
    expect(count(before, 'RunWorkflow:traced')).toBe(0);
    const firstLogs = jsonLines<Record<string, unknown>>(dev1.output()).filter((l) => l.kind === 'log');

    const dev2 = await spawnDev(project, {
      args: ['--no-watch', '--log-format', 'json'],
      env,
      ready: /Press Ctrl\+C to stop/,
    });
    const client2 = connect({ address: dev2.url });
    expect(await client2.getHandle('traced-1').result()).toBe('hello ada / flaky ok on 2 / hello again');
    const spans = await receiver.waitFor((all) => count(all, 'RunWorkflow:traced') === 1);
    await new Promise((resolve) => setTimeout(resolve, 200)); // a duplicate would arrive with it

    // The client's span, in the application's SDK, is the child of the request's span.
    const [startSpan] = appSpans.getFinishedSpans().filter((s) => s.name === 'StartWorkflow:traced');
    expect(startSpan?.spanContext().traceId).toBe(root.traceId);
    expect(startSpan?.parentSpanContext?.spanId).toBe(root.spanId);
    expect(startSpan?.kind).toBe(CLIENT - 1); // the API's SpanKind.CLIENT is 2; OTLP's is 3

    // One trace, every span once.
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([root.traceId]));
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
    expect(spans.map((s) => s.name).sort()).toEqual(
      [
        'RunWorkflow:traced',
        'StartActivity:greet',
        'RunActivity:greet',
        'StartActivity:flaky',
        'RunActivity:flaky',
        'RunActivity:flaky',
        'StartActivity:greet',
        'RunActivity:greet',
      ].sort(),
    );
    expect(spans[0]?.resource['service.name']).toBe('orders');

    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const run = spans.find((s) => s.name === 'RunWorkflow:traced') as ReceivedSpan;
    expect(run.parentSpanId).toBe(startSpan?.spanContext().spanId);
    expect(run.kind).toBe(SERVER);
    expect(run.attributes).toMatchObject({ 'wf.workflow.id': 'traced-1', 'wf.workflow.type': 'traced' });
    // Begun before the kill, ended after the restart: one span, with its recorded start.
    expect(run.startMs).toBeLessThan(killedAt);
    expect(run.endMs).toBeGreaterThan(killedAt);
    for (const span of spans.filter((s) => s.name.startsWith('StartActivity:'))) {
      expect(span.parentSpanId).toBe(run.spanId);
      expect(span.kind).toBe(CLIENT);
    }
    for (const span of spans.filter((s) => s.name.startsWith('RunActivity:'))) {
      expect(byId.get(span.parentSpanId as string)?.name).toBe(span.name.replace('Run', 'Start'));
      expect(span.kind).toBe(SERVER);
    }
    const flakyAttempts = spans
      .filter((s) => s.name === 'RunActivity:flaky')
      .sort(
        (a, b) => Number(a.attributes['wf.activity.attempt']) - Number(b.attributes['wf.activity.attempt']),
      );
    expect(flakyAttempts.map((s) => s.attributes['wf.activity.attempt'])).toEqual([1, 2]);
    // Each attempt's span covers its run (ActivityTaskStarted is recorded with the outcome).
    for (const attempt of flakyAttempts) expect(attempt.endMs - attempt.startMs).toBeGreaterThanOrEqual(90);
    expect(flakyAttempts[0]?.statusCode).toBe(2);
    expect(flakyAttempts[0]?.events[0]).toMatchObject({
      name: 'exception',
      attributes: { 'exception.type': 'Flaky', 'exception.message': 'first attempt fails' },
    });
    expect(flakyAttempts[1]?.statusCode).toBe(0);

    // Log lines carry the trace and the span they were written in.
    const workflowLog = firstLogs.find((l) => l.message === 'tracing');
    expect(workflowLog).toMatchObject({ trace_id: root.traceId, span_id: run.spanId });
    const activityLog = firstLogs.find((l) => l.message === 'greeting' && l.source === 'activity');
    const firstGreet = spans.find(
      (s) => s.name === 'RunActivity:greet' && s.startMs < killedAt,
    ) as ReceivedSpan;
    expect(activityLog).toMatchObject({ trace_id: root.traceId, span_id: firstGreet.spanId });
  });

  it("links a handled signal and update to the client's spans that sent them", async () => {
    const project = await makeProject({
      'src/workflows/index.ts': WORKFLOWS,
      'src/activities/index.ts': ACTIVITIES,
    });
    const dev = await spawnDev(project, {
      args: ['--no-watch'],
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '20',
      },
    });
    const client = connect({ address: dev.url });
    const handle = await client.start('counter', { workflowId: 'counter-1', args: [] });
    await trace.getTracer('app').startActiveSpan('POST /add', async (span) => {
      try {
        expect(await handle.executeUpdate('add', { args: [2] })).toBe(2);
        await handle.signal('bump');
      } finally {
        span.end();
      }
    });
    expect(await handle.result()).toBe(2);
    const spans = await receiver.waitFor((all) => count(all, 'RunWorkflow:counter') === 1);
    const sent = new Map(appSpans.getFinishedSpans().map((s) => [s.name, s.spanContext()]));
    const signalSpan = sent.get('SignalWorkflow:bump');
    const updateSpan = sent.get('UpdateWorkflow:add');
    const handledSignal = spans.find((s) => s.name === 'HandleSignal:bump');
    const handledUpdate = spans.find((s) => s.name === 'HandleUpdate:add');
    expect(handledSignal?.links).toEqual([{ traceId: signalSpan?.traceId, spanId: signalSpan?.spanId }]);
    expect(handledUpdate?.links).toEqual([{ traceId: updateSpan?.traceId, spanId: updateSpan?.spanId }]);
    // Handled in the run's trace, under its RunWorkflow.
    const run = spans.find((s) => s.name === 'RunWorkflow:counter');
    expect(handledSignal?.parentSpanId).toBe(run?.spanId);
    expect(handledUpdate?.traceId).toBe(run?.traceId);
  });

  it('wf run --otel exports the run it ran before it exits', async () => {
    const project = await makeProject({
      'src/workflows/index.ts': WORKFLOWS,
      'src/activities/index.ts': ACTIVITIES,
    });
    const done = await wf(['run', 'quick', '--input', '"cy"', '--otel', '--project', project], {
      // No short batch delay: the spans still buffered at exit are flushed by the shutdown.
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    expect(done.code).toBe(0);
    const spans = receiver.spans.filter((s) => s.attributes['wf.workflow.type'] === 'quick');
    expect(spans.map((s) => s.name).sort()).toEqual([
      'RunActivity:greet',
      'RunWorkflow:quick',
      'StartActivity:greet',
    ]);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    expect(spans[0]?.resource['service.name']).toBe('wf');
  });

  it('sends nothing when tracing is off, even with an endpoint set under OTEL_SDK_DISABLED=true', async () => {
    const project = await makeProject({
      'src/workflows/index.ts': WORKFLOWS,
      'src/activities/index.ts': ACTIVITIES,
    });
    const requestsBefore = receiver.requests;
    const dev = await spawnDev(project, {
      args: ['--no-watch', '--otel'],
      env: {
        OTEL_SDK_DISABLED: 'true',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '20',
      },
    });
    expect(dev.output()).not.toContain('traces:');
    const started = await wf([
      'execute',
      '--type',
      'traced',
      '-w',
      'off-1',
      '--input',
      '"bob"',
      '--address',
      dev.url,
    ]);
    expect(started.code).toBe(0);
    await dev.kill('SIGTERM');
    expect(receiver.requests).toBe(requestsBefore);
  });
});
