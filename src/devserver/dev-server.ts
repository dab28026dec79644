import { relative } from 'node:path';
import type { ActivityLogRecord } from '../activity/log.js';
import { WfError } from '../common/errors.js';
import { formatDuration } from '../common/format-duration.js';
import type { LogRecord } from '../workflow/protocol.js';
import { DeferredMetrics } from './deferred-metrics.js';
import { type DevReporter, plainReporter } from './dev-reporter.js';
import { type FirstBuild, startFirstBuild } from './first-build.js';
import { type HotReloader, startHotReload } from './hot-reload.js';
import { type HttpServer, startHttpServer } from './http-server.js';
import { type LocalEngine, type LocalEngineOptions, openLocalEngine } from './local-engine.js';
import type { ProjectConfig } from './project-config.js';
import { startTraceExport } from './trace-export.js';

export interface DevServerOptions extends Omit<LocalEngineOptions, 'onPauseChange' | 'onTimeSkip'> {
  config: ProjectConfig;
  /** Rebuild and swap in the code when files under src/ change. Default true. */
  watch?: boolean;
  host?: string;
  /** Where messages, events and workflow logs go. Default: plain lines on stdout. */
  reporter?: DevReporter;
  /** Require this bearer token on every HTTP request (`wf serve` off loopback). */
  apiToken?: string;
  /** How the server names itself in its messages. Default `wf dev`. */
  name?: string;
  /** Also serve `GET /metrics` alone on this port (for scrapers), on the same host and token rules. */
  metricsPort?: number;
  /** Export traces with OTLP even when no `OTEL_*` variable asks for it (`--otel`). */
  otel?: boolean;
  /** The environment the `OTEL_*` variables are read from. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * The workflows' first build when the caller started it early (first-build.ts) to overlap it with
   * loading this module; with `watch`, one is started here otherwise.
   */
  firstBuild?: Promise<FirstBuild>;
}

export interface DevServer {
  url: string;
  local: LocalEngine;
  http: HttpServer;
  /** The metrics port's server, when `metricsPort` was given. */
  metricsHttp: HttpServer | undefined;
  reloader: HotReloader | undefined;
  close(): Promise<void>;
}

/** Starts `wf dev`: the local engine on the project's store, served over HTTP on loopback. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const reporter = options.reporter ?? plainReporter((line) => process.stdout.write(`${line}\n`));
  const out = (line: string) => reporter.message('info', line);
  const { config } = options;
  const watching = options.watch ?? true;
  const firstBuild = options.firstBuild ?? (watching ? startFirstBuild(config) : undefined);
  // Until the hot reloader owns it, a failure must let the first build's esbuild context go (it
  // would keep the process alive after the error is printed).
  const dropFirstBuild = async () => {
    const first = await firstBuild?.catch(() => undefined);
    await first?.bundler.dispose();
  };
  const metrics = new DeferredMetrics();
  let traces: Awaited<ReturnType<typeof startTraceExport>>;
  try {
    traces = await startTraceExport(options.otel ?? false, options.env ?? process.env, (message) =>
      reporter.message('warn', message),
    );
  } catch (error) {
    await dropFirstBuild();
    throw error;
  }
  // Log lines name the trace and span they belong to when tracing is on (the engine derives them).
  let engine: LocalEngine['engine'] | undefined;
  const workflowLog = (runId: string, record: LogRecord) =>
    reporter.workflowLog(runId, record, engine?.traceContext(runId));
  const activityLog = (record: ActivityLogRecord) =>
    reporter.activityLog(record, engine?.traceContext(record.activity.runId, record.activity));
  let local: LocalEngine;
  let first: FirstBuild | undefined;
  try {
    first = await firstBuild;
    local = await openLocalEngine(config, {
      ...options,
      ...(first ? { workflowBundle: first.bundle } : {}),
      metrics,
      ...(traces ? { tracing: traces.tracing } : {}),
      logger: options.logger ?? {
        info: (m) => reporter.message('info', m),
        warn: (m) => reporter.message('warn', m),
        error: (m) => reporter.message('error', m),
      },
      workflowLog: options.workflowLog ?? workflowLog,
      activityLog: options.activityLog ?? activityLog,
      onPauseChange: (run, reason) => reporter.paused(run, reason),
      onTimeSkip: (offsetMs) => reporter.timeSkipped(new Date(Date.now() + offsetMs).toISOString(), offsetMs),
    });
  } catch (error) {
    await dropFirstBuild();
    await traces?.shutdown();
    throw error;
  }
  if (traces) engine = local.engine;
  const closeLocal = async () => {
    await local.close();
    await traces?.shutdown();
  };
  // The watcher is ready before the server answers: an edit saved from then on is never missed.
  let reloader: HotReloader | undefined;
  let workflowTypes: readonly string[] = local.code.sandbox.workflowTypes;
  if (watching) {
    try {
      reloader = await startHotReload({
        config,
        engine: local.engine,
        out,
        workflowLog,
        loadedCode: local.code.bundle.code,
        ...(first
          ? { first: { bundler: first.bundler, bundle: await first.bundle, startedAt: first.startedAt } }
          : {}),
        onReloaded: (types) => {
          workflowTypes = types;
        },
      });
    } catch (error) {
      await dropFirstBuild();
      await closeLocal();
      throw error;
    }
  }
  metrics.observe(() => local.engine.gauges());
  let http: HttpServer;
  let metricsHttp: HttpServer | undefined;
  let lastRefusalReport = Number.NEGATIVE_INFINITY;
  try {
    http = await startHttpServer({
      service: local.engine,
      ...(local.time ? { timeControl: local.time } : {}),
      port: config.port,
      ...(options.host ? { host: options.host } : {}),
      ...(options.apiToken ? { apiToken: options.apiToken } : {}),
      metrics,
      workflowTypes: () => workflowTypes,
      sourceRoot: config.root,
      onConnectionRefused: ({ max }) => {
        // Once a minute at most: a client stuck in a reconnect loop must not flood the terminal.
        if (Date.now() - lastRefusalReport < 60_000) return;
        lastRefusalReport = Date.now();
        reporter.message(
          'warn',
          `refused a connection: ${max} connections are open, the most the dev server keeps. A client is opening connections without closing them (event streams and result waits each hold one).`,
        );
      },
    });
  } catch (error) {
    await reloader?.close();
    await closeLocal();
    throw error;
  }
  if (options.metricsPort !== undefined) {
    try {
      metricsHttp = await startHttpServer({
        service: local.engine,
        port: options.metricsPort,
        ...(options.host ? { host: options.host } : {}),
        ...(options.apiToken ? { apiToken: options.apiToken } : {}),
        metrics,
        only: 'metrics',
      });
    } catch (error) {
      await http.close();
      await reloader?.close();
      await closeLocal();
      // startHttpServer's advice names --port; here the port in question is the metrics port.
      if (error instanceof WfError) {
        throw new WfError(
          'UNAVAILABLE',
          `metrics ${error.message.replaceAll('--port N', '--metrics-port N')}`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }
  const unsubscribe = local.engine.subscribe((notice) => reporter.event(notice));
  out(
    `${options.name ?? 'wf dev'} listening on ${http.url}${options.apiToken ? ' (API token required)' : ''}`,
  );
  out(`  ui:         ${http.url}/`);
  out(
    local.engine.owner
      ? `  store:      ${local.storeWhere} (shared: this process is ${local.engine.owner}, build ${local.buildId})`
      : `  store:      ${local.storeWhere} (persistent: runs survive restarts)`,
  );
  out(
    `  workflows:  ${relative(config.root, config.workflowsPath)} (${local.code.sandbox.workflowTypes.join(', ') || 'none exported'})`,
  );
  if (config.activitiesPath) out(`  activities: ${relative(config.root, config.activitiesPath)}`);
  out(`  metrics:    ${metricsHttp ? metricsHttp.url : http.url}/metrics (Prometheus)`);
  if (traces) {
    out(
      `  traces:     ${traces.config.url} (OpenTelemetry OTLP ${traces.config.protocol}, service ${traces.config.serviceName})`,
    );
  }
  const recoveredLine = ({ resumed, paused }: { resumed: number; paused: number }) =>
    local.engine.owner
      ? `  claimed:    ${resumed} open run(s) due now${paused ? `, ${paused} paused` : ''}`
      : `  recovered:  ${resumed} open run(s) resumed${paused ? `, ${paused} paused` : ''}`;
  if (local.recovery.open === 0 || local.engine.owner) out(recoveredLine(await local.recovery.done));
  else {
    // Requests are served meanwhile; a run asked for before its turn is brought back first.
    out(`  recovering: ${local.recovery.open} open run(s) in the background`);
    void local.recovery.done.then((counts: { resumed: number; paused: number }) =>
      out(recoveredLine(counts)),
    );
  }
  if (local.clock.offsetMs > 0) {
    out(
      `  time:       ${formatDuration(local.clock.offsetMs)} ahead of real time (wf time skip; kept in the store)`,
    );
  }
  for (const line of local.storeNotes) out(line);
  if (reloader) out('  watching:   src/ (changes reload the code; open runs are rebuilt by replay)');
  // The server answers now; the metrics' module loads next, before any scrape is likely.
  setImmediate(() => {
    metrics.load().catch((error: Error) => reporter.message('warn', error.message));
  });
  return {
    url: http.url,
    local,
    http,
    metricsHttp,
    reloader,
    async close() {
      unsubscribe();
      await reloader?.close();
      await metricsHttp?.close();
      await http.close();
      await closeLocal();
    },
  };
}
