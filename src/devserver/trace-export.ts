import { type TraceExport, traceExportConfig } from './otel-config.js';

/**
 * Starts the OpenTelemetry SDK when tracing is on. The SDK is imported only then: a server with
 * tracing off (and every other command) never loads it.
 */
export async function startTraceExport(
  flag: boolean,
  env: NodeJS.ProcessEnv,
): Promise<TraceExport | undefined> {
  const config = traceExportConfig(flag, env);
  if (!config) return undefined;
  const { startOtelSdk } = await import('./otel-sdk.js');
  return startOtelSdk(config);
}
