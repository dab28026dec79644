import { InvalidArgumentError } from '../common/errors.js';
import type { EngineTracing } from '../runtime/engine/index.js';

/** Where `wf dev` / `wf serve` send traces, decided from `--otel` and the standard `OTEL_*` variables. */
export interface TraceExportConfig {
  /** The OTLP/HTTP traces URL (`.../v1/traces`). */
  url: string;
  protocol: 'http/protobuf' | 'http/json';
  serviceName: string;
}

/** The tracing of a running server: the engine's span sink, and how to flush and stop it. */
export interface TraceExport {
  config: TraceExportConfig;
  tracing: EngineTracing;
  /** Exports what is buffered and stops the exporter. */
  shutdown(): Promise<void>;
}

const DEFAULT_ENDPOINT = 'http://localhost:4318';

/**
 * Tracing is on with `--otel`, or when the environment asks for OTLP traces
 * (`OTEL_TRACES_EXPORTER=otlp`, `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`).
 * `OTEL_SDK_DISABLED=true` and `OTEL_TRACES_EXPORTER=none` turn it off, whatever else says.
 * Undefined when off.
 */
export function traceExportConfig(flag: boolean, env: NodeJS.ProcessEnv): TraceExportConfig | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  if (exporters.includes('none')) return undefined;
  const unsupported = exporters.filter((name) => name !== 'otlp');
  if (unsupported.length > 0) {
    throw new InvalidArgumentError(
      `OTEL_TRACES_EXPORTER=${env.OTEL_TRACES_EXPORTER}: wf exports traces with OTLP only; set it to otlp (or none), and point OTEL_EXPORTER_OTLP_ENDPOINT at your collector`,
    );
  }
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!flag && exporters.length === 0 && !tracesEndpoint && !endpoint) return undefined;
  const url = tracesEndpoint || `${(endpoint || DEFAULT_ENDPOINT).replace(/\/+$/, '')}/v1/traces`;
  try {
    new URL(url);
  } catch {
    throw new InvalidArgumentError(
      `the OTLP traces endpoint ${JSON.stringify(url)} is not a URL: set OTEL_EXPORTER_OTLP_ENDPOINT to e.g. http://localhost:4318`,
    );
  }
  const protocol = (
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ??
    env.OTEL_EXPORTER_OTLP_PROTOCOL ??
    'http/protobuf'
  ).trim();
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new InvalidArgumentError(
      `OTLP protocol ${JSON.stringify(protocol)} is not supported: wf sends OTLP over HTTP; set OTEL_EXPORTER_OTLP_PROTOCOL to http/protobuf (the default) or http/json, and use the collector's HTTP port (4318)`,
    );
  }
  return { url, protocol, serviceName: env.OTEL_SERVICE_NAME?.trim() || 'wf' };
}
