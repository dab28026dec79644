import {
  type Attributes,
  isSpanContextValid,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { formatTraceparent, type TraceHeader } from '../common/trace-header.js';

/**
 * Runs a client call in a span named as Temporal's interceptors name them (`StartWorkflow:<type>`,
 * `SignalWorkflow:<name>`...), a child of the caller's active span. Without an OpenTelemetry SDK in
 * the application, @opentelemetry/api makes this a no-op. `call` gets the span's W3C header to send
 * with a start, so the run's spans join the caller's trace.
 */
export function clientSpan<T>(
  name: string,
  attributes: Attributes,
  call: (header: TraceHeader | undefined, span: Span) => Promise<T>,
): Promise<T> {
  return trace
    .getTracer('wfkit')
    .startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      try {
        return await call(headerOf(span), span);
      } catch (error) {
        if (error instanceof Error) span.recordException(error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message ?? String(error) });
        throw error;
      } finally {
        span.end();
      }
    });
}

function headerOf(span: Span): TraceHeader | undefined {
  const context = span.spanContext();
  if (!isSpanContextValid(context)) return undefined;
  const traceparent = formatTraceparent({
    traceId: context.traceId,
    spanId: context.spanId,
    flags: context.traceFlags,
  });
  const tracestate = context.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}
