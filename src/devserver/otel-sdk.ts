/**
 * The OpenTelemetry SDK behind `wf dev --otel` / `wf serve --otel`. Imported only when tracing is on
 * (otel-config.ts), so that nothing else pays for loading it.
 */

import { createRequire } from 'node:module';
import {
  createTraceState,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type IdGenerator,
  RandomIdGenerator,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { EngineSpan, EngineTracing } from '../runtime/engine/index.js';
import type { TraceExport, TraceExportConfig } from './otel-config.js';

/**
 * Hands the SDK the IDs the engine derived for the span being started (tracing.ts explains why they
 * are derived), and random ones otherwise.
 */
class DerivedIds implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  traceId = '';
  spanId = '';
  generateTraceId(): string {
    return this.traceId || this.random.generateTraceId();
  }
  generateSpanId(): string {
    return this.spanId || this.random.generateSpanId();
  }
}

const KINDS = { client: SpanKind.CLIENT, server: SpanKind.SERVER, internal: SpanKind.INTERNAL } as const;

/** The exporter, telling `onError` when an export fails (the SDK itself only tells its diag logger). */
function reporting(exporter: SpanExporter, onError: (message: string) => void): SpanExporter {
  return {
    export(spans, resultCallback) {
      exporter.export(spans, (result) => {
        // ExportResultCode.SUCCESS is 0.
        if (result.code !== 0) onError(result.error?.message ?? 'export failed');
        resultCallback(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    ...(exporter.forceFlush ? { forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve() } : {}),
  };
}

export function startOtelSdk(
  config: TraceExportConfig,
  onExportError: (message: string) => void = () => undefined,
): TraceExport {
  const version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  const resource = defaultResource()
    .merge(
      resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName, [ATTR_SERVICE_VERSION]: version }),
    )
    .merge(detectResources({ detectors: [envDetector] }));
  const exporter =
    config.protocol === 'http/json'
      ? new JsonExporter({ url: config.url })
      : new ProtobufExporter({ url: config.url });
  const ids = new DerivedIds();
  const provider = new BasicTracerProvider({
    resource,
    idGenerator: ids,
    spanProcessors: [new BatchSpanProcessor(reporting(exporter, onExportError))],
  });
  const tracer = provider.getTracer('wfkit', version);
  return {
    config,
    tracing: otelTracing(tracer, ids),
    async shutdown() {
      try {
        await provider.shutdown();
      } catch (error) {
        // The last export failed: already reported through onExportError; stopping goes on.
        onExportError((error as Error).message);
      }
    },
  };
}

function otelTracing(tracer: Tracer, ids: DerivedIds): EngineTracing {
  return {
    span(span: EngineSpan) {
      const parent = span.parentSpanId
        ? trace.setSpanContext(ROOT_CONTEXT, {
            traceId: span.traceId,
            spanId: span.parentSpanId,
            traceFlags: span.sampled ? 1 : 0,
            isRemote: span.remoteParent ?? false,
            ...(span.traceState ? { traceState: createTraceState(span.traceState) } : {}),
          })
        : ROOT_CONTEXT;
      ids.traceId = span.traceId;
      ids.spanId = span.spanId;
      let started: ReturnType<Tracer['startSpan']>;
      try {
        started = tracer.startSpan(
          span.name,
          {
            kind: KINDS[span.kind],
            startTime: span.startTime,
            attributes: span.attributes,
            ...(span.links
              ? {
                  links: span.links.map((link) => ({
                    context: {
                      traceId: link.traceId,
                      spanId: link.spanId,
                      traceFlags: link.sampled ? 1 : 0,
                      isRemote: true,
                      ...(link.traceState ? { traceState: createTraceState(link.traceState) } : {}),
                    },
                  })),
                }
              : {}),
          },
          parent,
        );
      } finally {
        ids.traceId = '';
        ids.spanId = '';
      }
      if (span.failure) {
        started.recordException(
          {
            name: span.failure.type ?? span.failure.name,
            message: span.failure.message,
            ...(span.failure.stack ? { stack: span.failure.stack } : {}),
          },
          span.endTime,
        );
        started.setStatus({ code: SpanStatusCode.ERROR, message: span.failure.message });
      } else if (span.error) {
        started.setStatus({ code: SpanStatusCode.ERROR, message: span.error });
      }
      started.end(span.endTime);
    },
  };
}
