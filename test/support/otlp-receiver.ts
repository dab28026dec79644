/**
 * An OTLP/HTTP traces receiver for tests: listens on loopback, accepts `POST /v1/traces` in OTLP's
 * JSON encoding (what @opentelemetry/exporter-trace-otlp-http sends with
 * OTEL_EXPORTER_OTLP_PROTOCOL=http/json) and keeps every span it was sent, flattened.
 */
import { createServer, type Server } from 'node:http';

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
};

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** OTLP's SpanKind number: 2 server, 3 client. */
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, string | number | boolean>;
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  events: { name: string; attributes: Record<string, string | number | boolean> }[];
  links: { traceId: string; spanId: string }[];
  /** The resource's attributes (service.name...). */
  resource: Record<string, string | number | boolean>;
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  /** Every request received, whatever its path. */
  requests: number;
  /** Resolves once `predicate` holds for the spans received (polling). */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

function plainValue(value: AnyValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.boolValue !== undefined) return value.boolValue;
  return value.doubleValue ?? '';
}

function attributesOf(list: { key: string; value: AnyValue }[] | undefined) {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) out[key] = plainValue(value);
  return out;
}

/** OTLP JSON IDs are hex; a base64 one (protobuf-JSON mapping) is turned into hex. */
function hexId(id: string | undefined, length: number): string | undefined {
  if (!id) return undefined;
  if (new RegExp(`^[0-9a-f]{${length}}$`).test(id)) return id;
  return Buffer.from(id, 'base64').toString('hex');
}

const nanosToMs = (value: string | number) => Number(BigInt(value) / 1_000_000n);

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const receiver = { requests: 0 } as OtlpReceiver;
  const server: Server = createServer((req, res) => {
    receiver.requests++;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      // biome-ignore lint/suspicious/noExplicitAny: the OTLP JSON body, read field by field
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as any;
      for (const resourceSpans of body.resourceSpans ?? []) {
        const resource = attributesOf(resourceSpans.resource?.attributes);
        for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
          for (const span of scopeSpans.spans ?? []) {
            spans.push({
              traceId: hexId(span.traceId, 32) as string,
              spanId: hexId(span.spanId, 16) as string,
              parentSpanId: hexId(span.parentSpanId, 16),
              name: span.name,
              kind: span.kind,
              startMs: nanosToMs(span.startTimeUnixNano),
              endMs: nanosToMs(span.endTimeUnixNano),
              attributes: attributesOf(span.attributes),
              statusCode: span.status?.code ?? 0,
              events: (span.events ?? []).map((e: { name: string; attributes?: [] }) => ({
                name: e.name,
                attributes: attributesOf(e.attributes),
              })),
              links: (span.links ?? []).map((l: { traceId: string; spanId: string }) => ({
                traceId: hexId(l.traceId, 32) as string,
                spanId: hexId(l.spanId, 16) as string,
              })),
              resource,
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}`,
    spans,
    async waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      while (!predicate(spans)) {
        if (Date.now() > end) {
          throw new Error(
            `timed out waiting for spans; received: ${spans.map((s) => s.name).join(', ') || 'none'}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return spans;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
