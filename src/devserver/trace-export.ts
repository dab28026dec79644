import { type TraceExport, traceExportConfig } from './otel-config.js';

/**
 * Starts the OpenTelemetry SDK when tracing is on. The SDK is imported only then: a server with
 * tracing off (and every other command) never loads it.
 */
export async function startTraceExport(
  flag: boolean,
  env: NodeJS.ProcessEnv,
  warn: (message: string) => void = () => undefined,
): Promise<TraceExport | undefined> {
  const config = traceExportConfig(flag, env);
  if (!config) return undefined;
  const { startOtelSdk } = await import('./otel-sdk.js');
  // Once a minute at most: a collector that is down must not flood the terminal.
  let lastWarning = Number.NEGATIVE_INFINITY;
  return startOtelSdk(config, (message) => {
    if (Date.now() - lastWarning < 60_000) return;
    lastWarning = Date.now();
    warn(
      `could not send traces to ${config.url}: ${message} (spans are dropped until it answers; is the collector running?)`,
    );
  });
}
