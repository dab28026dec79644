import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTraceExport } from './trace-export.js';

/** A loopback port nothing listens on: listen on 0, read it, close. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('the trace export of wf dev / wf serve / wf run', () => {
  it('is not started when tracing is off', async () => {
    expect(await startTraceExport(false, {})).toBeUndefined();
  });

  it('says once that the collector does not answer, and still stops cleanly', async () => {
    const port = await closedPort();
    const warnings: string[] = [];
    const traces = await startTraceExport(
      true,
      { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
      (message) => warnings.push(message),
    );
    expect(traces?.config.url).toBe(`http://127.0.0.1:${port}/v1/traces`);
    for (let i = 1; i <= 3; i++) {
      traces?.tracing.span({
        name: 'RunWorkflow:demo',
        kind: 'server',
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: `00f067aa0ba902b${i}`,
        sampled: true,
        startTime: new Date(),
        endTime: new Date(),
        attributes: {},
      });
    }
    await traces?.shutdown();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(`^could not send traces to http://127\\.0\\.0\\.1:${port}/v1/traces: .*ECONNREFUSED`),
    );
  });
});
