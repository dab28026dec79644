import { relative } from 'node:path';
import { formatDuration } from '../common/format-duration.js';
import { printable } from '../common/printable.js';
import type { HistoryEvent } from '../history/events.js';
import type { EventNotice } from '../protocol/service.js';
import type { LogRecord } from '../workflow/protocol.js';
import { type HotReloader, startHotReload } from './hot-reload.js';
import { type HttpServer, startHttpServer } from './http-server.js';
import {
  describeOpenReport,
  type LocalEngine,
  type LocalEngineOptions,
  openLocalEngine,
} from './local-engine.js';
import type { ProjectConfig } from './project-config.js';

export interface DevServerOptions extends LocalEngineOptions {
  config: ProjectConfig;
  /** Rebuild and swap in the code when files under src/ change. Default true. */
  watch?: boolean;
  host?: string;
  /** Where progress lines go. */
  out?: (line: string) => void;
}

export interface DevServer {
  url: string;
  local: LocalEngine;
  http: HttpServer;
  reloader: HotReloader | undefined;
  close(): Promise<void>;
}

/** Starts `wf dev`: the local engine on the project's store, served over HTTP on loopback. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { config } = options;
  const local = await openLocalEngine(config, {
    ...options,
    logger: options.logger ?? {
      info: (m) => out(m),
      warn: (m) => out(`warning: ${m}`),
      error: (m) => out(`error: ${m}`),
    },
    workflowLog:
      options.workflowLog ??
      ((runId, record) =>
        out(
          printable(
            `  [${record.level}] ${record.message}${attrs(record.attributes)} (run ${runId.slice(0, 8)})`,
          ),
        )),
  });
  let http: HttpServer;
  try {
    http = await startHttpServer({
      service: local.engine,
      timeControl: local.time,
      port: config.port,
      ...(options.host ? { host: options.host } : {}),
    });
  } catch (error) {
    await local.close();
    throw error;
  }
  const unsubscribe = local.engine.subscribe((notice) => out(printable(formatNotice(notice))));
  let reloader: HotReloader | undefined;
  if (options.watch ?? true) {
    reloader = await startHotReload({
      config,
      engine: local.engine,
      out,
      workflowLog: (runId, record) => out(printable(formatLog(runId, record))),
    });
  }
  const report = local.openReport;
  out(`wf dev listening on ${http.url}`);
  out(`  store:      ${config.storeDir} (persistent: runs survive restarts)`);
  out(
    `  workflows:  ${relative(config.root, config.workflowsPath)} (${local.code.sandbox.workflowTypes.join(', ') || 'none exported'})`,
  );
  if (config.activitiesPath) out(`  activities: ${relative(config.root, config.activitiesPath)}`);
  out(
    `  recovered:  ${local.recovered.resumed} open run(s) resumed${local.recovered.paused ? `, ${local.recovered.paused} paused` : ''}`,
  );
  if (local.clock.offsetMs > 0) {
    out(
      `  time:       ${formatDuration(local.clock.offsetMs)} ahead of real time (wf time skip; kept in the store)`,
    );
  }
  for (const line of describeOpenReport(report)) out(line);
  if (reloader) out('  watching:   src/ (changes reload the code; open runs are rebuilt by replay)');
  return {
    url: http.url,
    local,
    http,
    reloader,
    async close() {
      unsubscribe();
      await reloader?.close();
      await http.close();
      await local.close();
    },
  };
}

function formatLog(runId: string, record: LogRecord): string {
  return `  [${record.level}] ${record.message}${attrs(record.attributes)} (run ${runId.slice(0, 8)})`;
}

function attrs(attributes: Record<string, unknown> | undefined): string {
  return attributes && Object.keys(attributes).length ? ` ${JSON.stringify(attributes)}` : '';
}

function formatNotice({ workflowId, event }: EventNotice): string {
  const time = event.eventTime.slice(11, 23);
  return `${time} ${workflowId} #${event.eventId} ${event.type}${detail(event)}`;
}

function detail(event: HistoryEvent): string {
  switch (event.type) {
    case 'WorkflowExecutionStarted':
      return ` ${event.workflowType}`;
    case 'ActivityTaskScheduled':
      return ` ${event.activityType}`;
    case 'ActivityTaskStarted':
    case 'ActivityTaskCompleted':
      return ` seq ${event.seq} attempt ${event.attempt}`;
    case 'ActivityTaskFailed':
      return ` seq ${event.seq} attempt ${event.attempt}: ${event.failure.message}${
        event.nextRetryDelayMs === undefined ? '' : ` (retry in ${event.nextRetryDelayMs} ms)`
      }`;
    case 'TimerStarted':
      return ` ${event.durationMs} ms, fires ${event.fireAt}`;
    case 'WorkflowSignaled':
      return ` ${event.signalName}`;
    case 'WorkflowExecutionFailed':
      return `: ${event.failure.message}`;
    default:
      return '';
  }
}
