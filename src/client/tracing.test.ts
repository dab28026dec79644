import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeWorkflowService } from '../../test/support/fake-service.js';
import { WorkflowClient } from './client.js';

describe("the client's spans", () => {
  afterEach(() => {
    trace.disable();
    context.disable();
  });

  it('sends no trace context when the application has no OpenTelemetry SDK', async () => {
    const service = new FakeWorkflowService();
    const client = new WorkflowClient(service);
    await client.start('greet', { workflowId: 'g-1', args: [] });
    const [call] = service.calls.filter((c) => c.method === 'startWorkflow');
    expect(call?.args[0]).not.toHaveProperty('header');
  });

  it("starts StartWorkflow under the caller's active span and sends its W3C context with the start", async () => {
    const exporter = new InMemorySpanExporter();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
    const service = new FakeWorkflowService();
    const client = new WorkflowClient(service);
    const request = await trace.getTracer('app').startActiveSpan('POST /orders', async (span) => {
      await client.start('greet', { workflowId: 'g-2', args: [] });
      await expect(client.start('nope', { workflowId: 'g-3', args: [] })).rejects.toThrow();
      span.end();
      return span.spanContext();
    });
    const spans = exporter.getFinishedSpans();
    const started = spans.find((s) => s.name === 'StartWorkflow:greet');
    expect(started?.parentSpanContext?.spanId).toBe(request.spanId);
    expect(started?.attributes).toMatchObject({ 'wf.workflow.id': 'g-2', 'wf.workflow.type': 'greet' });
    expect(started?.attributes['wf.run.id']).toEqual(expect.any(String));
    const [call] = service.calls.filter((c) => c.method === 'startWorkflow');
    expect(call?.args[0]).toMatchObject({
      header: { traceparent: `00-${request.traceId}-${started?.spanContext().spanId}-01` },
    });
    // A failed call is an error span with the exception recorded.
    const failed = spans.find((s) => s.name === 'StartWorkflow:nope');
    expect(failed?.status.code).toBe(2);
    expect(failed?.events.map((e) => e.name)).toEqual(['exception']);
  });
});
