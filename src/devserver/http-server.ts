/**
 * The dev server's HTTP API (docs/http-api.md): a thin JSON layer over a WorkflowService, bound to
 * loopback. It refuses foreign Host headers (DNS rebinding) and foreign Origin headers (a web page
 * driving the API from the user's browser), since the API has no authentication.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_HOST, DEFAULT_PORT } from '../common/defaults.js';
import { parseDuration } from '../common/duration.js';
import { wfErrorToWire } from '../common/error-wire.js';
import { InvalidArgumentError, WfError, type WfErrorCode } from '../common/errors.js';
import { checkName } from '../common/request-rules.js';
import type { ScheduleDefinition, ScheduleOverlapPolicy } from '../common/schedules.js';
import { RUN_STATUSES as ALL_RUN_STATUSES, type RunStatus } from '../history/events.js';
import { HistoryCorruptError, RunNotFoundError } from '../history/store.js';
import type {
  ActivityCompletionService,
  EventNotice,
  ListRequest,
  RunRef,
  ScheduleService,
  TimeControl,
  WorkflowOutcome,
  WorkflowService,
} from '../protocol/service.js';
import type { MetricsEndpoint } from './prometheus-metrics.js';
import {
  parseActivityCompleteBody,
  parseActivityFailBody,
  parseActivityHeartbeatBody,
  parseFireTimerBody,
  parseQueryBody,
  parseReasonBody,
  parseSignalBody,
  parseStartBody,
  parseTimeSkipBody,
  parseUpdateBody,
} from './request-bodies.js';
import { callSitesOf, sourceFrames } from './source-frames.js';
import { createWebUi, type WebUi } from './web-ui.js';

export const API_PREFIX = '/api/v1';
/** Where the Prometheus metrics are served (outside the API prefix, where scrapers look). */
export const METRICS_PATH = '/metrics';
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
/** `GET .../result` waits this long by default before answering 202 so the client polls again. */
export const DEFAULT_RESULT_WAIT_MS = 30_000;
/** Longest `?wait=` honoured: longer waits are cut to this. */
export const MAX_RESULT_WAIT_MS = 120_000;
const DEFAULT_SSE_KEEP_ALIVE_MS = 15_000;
/**
 * A local client sends its headers at once: a request whose headers are not complete after this long
 * is answered 408 and its connection closed (Node's default is 60 s).
 */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/**
 * Longest time to receive a whole request, body included (bodies are at most 1 MiB on loopback; Node's
 * default is 300 s). Only the request counts: a long poll or an event stream answers for as long as
 * it needs.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** An idle kept-alive connection is closed after this long (clients reconnect on their next call). */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/**
 * Most connections open at once (event streams and long polls each hold one); further connections are
 * closed at once and reported, rather than let a runaway client exhaust the process's file descriptors.
 */
export const DEFAULT_MAX_CONNECTIONS = 512;
/** An event stream whose reader falls this far behind is closed rather than buffered without end. */
const SSE_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface HttpServerOptions {
  service: WorkflowService;
  /** Time control (`/time`, `/time/skip`, `/workflows/:id/timers/fire`); without it those routes answer 501. */
  timeControl?: TimeControl;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Port to bind; 0 picks a free one. Default DEFAULT_PORT. */
  port?: number;
  /** Largest request body accepted; bigger ones get 413. Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Host names accepted besides localhost, 127.0.0.1 and [::1] (in Host and Origin headers). */
  allowedHosts?: string[];
  /** Interval of SSE keep-alive comments. Default 15 s. */
  sseKeepAliveMs?: number;
  /** Told about errors that are our bugs (500s). */
  onInternalError?: (err: unknown) => void;
  /**
   * Require `Authorization: Bearer <token>` on every request (compared in constant time). With a
   * token, requests are accepted whatever their Host (the token, not the address, keeps others out):
   * `wf serve` on a non-loopback address requires one.
   */
  apiToken?: string;
  /** Time to receive a request's headers. Default DEFAULT_HEADERS_TIMEOUT_MS (10 s). */
  headersTimeoutMs?: number;
  /** Time to receive a whole request, body included. Default DEFAULT_REQUEST_TIMEOUT_MS (30 s). */
  requestTimeoutMs?: number;
  /** Idle time after which a kept-alive connection is closed. Default DEFAULT_KEEP_ALIVE_TIMEOUT_MS (5 s). */
  keepAliveTimeoutMs?: number;
  /** Most connections open at once. Default DEFAULT_MAX_CONNECTIONS (512). */
  maxConnections?: number;
  /** Told when a connection is refused because `maxConnections` are open. */
  onConnectionRefused?: (info: { open: number; max: number }) => void;
  /** Served at `GET /metrics` (Prometheus text format), under the same Host, Origin and token rules. */
  metrics?: MetricsEndpoint;
  /** `metrics`: this server is the metrics port (`--metrics-port`) and answers `GET /metrics` only. */
  only?: 'metrics';
  /**
   * The web UI at `/` (docs/web-ui.md). Default: the one built into the package (dist/ui-assets);
   * `false` serves none.
   */
  webUi?: WebUi | false;
  /** The workflow types the server's code exports now, for `GET /api/v1/info` (absent there without it). */
  workflowTypes?: () => readonly string[];
  /** The project's directory: `GET .../source` reads the code frames of a run's call sites from it. */
  sourceRoot?: string;
}

export interface HttpServer {
  url: string;
  port: number;
  /** Ends event streams and long polls, closes every connection and stops listening. */
  close(): Promise<void>;
}

/** An HTTP-level refusal that is not a WfError (403, 404, 405, 413). */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const STATUS_OF_CODE: Record<WfErrorCode, number> = {
  NOT_FOUND: 404,
  ALREADY_STARTED: 409,
  INVALID_ARGUMENT: 400,
  UNKNOWN_WORKFLOW_TYPE: 400,
  NOT_RUNNING: 409,
  QUERY_FAILED: 400,
  UPDATE_REJECTED: 422,
  CORRUPT: 409,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

const RUN_STATUSES = new Set<RunStatus | 'CORRUPT'>(ALL_RUN_STATUSES);
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

type Params = Record<string, string>;
interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: Params;
  query: URLSearchParams;
}
type Handler = (ctx: Ctx) => Promise<void>;
interface Route {
  pattern: string[];
  /** Lower-case method names: biome's React rules take `GET: () => ...` for a component. */
  methods: Partial<Record<'get' | 'post', Handler>>;
}

/**
 * Starts the HTTP API over `service`. Rejects with WfError('UNAVAILABLE') when the port is taken.
 * @example
 * const server = await startHttpServer({ service: engine, port: 0 });
 * console.log(server.url); // http://127.0.0.1:53412
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const service = options.service;
  const host = options.host ?? DEFAULT_HOST;
  const requestedPort = options.port ?? DEFAULT_PORT;
  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const keepAliveMs = options.sseKeepAliveMs ?? DEFAULT_SSE_KEEP_ALIVE_MS;
  const extraHosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()));
  const streams = new Set<ServerResponse>();
  const cleanups = new Set<() => void>();
  let port = requestedPort;

  const webUi =
    options.only === 'metrics' || options.webUi === false ? undefined : (options.webUi ?? createWebUi());

  const routes: Route[] = [
    {
      pattern: ['info'],
      methods: {
        // What a client (the web UI) adapts to: the types it can start, and whether time control is there.
        get: async ({ res }) =>
          sendJson(res, 200, {
            ...(options.workflowTypes ? { workflowTypes: [...options.workflowTypes()] } : {}),
            timeControl: options.timeControl !== undefined,
            schedules: typeof (service as Partial<ScheduleService>).createSchedule === 'function',
            tokenRequired: options.apiToken !== undefined,
          }),
      },
    },
    {
      pattern: ['workflows', ':id', 'source'],
      methods: {
        get: async ({ res, params, query }) => {
          const description = await service.describe(runRef(params, query));
          const frames =
            options.sourceRoot === undefined
              ? []
              : await sourceFrames(options.sourceRoot, callSitesOf(description));
          sendJson(res, 200, { frames });
        },
      },
    },
    {
      pattern: ['schedules'],
      methods: {
        get: async ({ res }) => sendJson(res, 200, { schedules: await schedules().listSchedules() }),
        post: async ({ req, res }) => {
          const definition = parseScheduleBody(await readJsonBody(req, bodyLimit));
          sendJson(res, 201, await schedules().createSchedule(definition));
        },
      },
    },
    {
      pattern: ['schedules', ':id'],
      methods: {
        get: async ({ res, params }) => sendJson(res, 200, await schedules().describeSchedule(params.id!)),
      },
    },
    {
      pattern: ['schedules', ':id', ':action'],
      methods: {
        post: async ({ req, res, params }) => {
          const body = objectBody(await readJsonBody(req, bodyLimit));
          const id = params.id!;
          const note = typeof body.note === 'string' ? body.note : undefined;
          const overlap = body.overlap as ScheduleOverlapPolicy | undefined;
          switch (params.action) {
            case 'pause':
              return sendJson(res, 200, await schedules().pauseSchedule(id, note));
            case 'unpause':
              return sendJson(res, 200, await schedules().unpauseSchedule(id, note));
            case 'trigger':
              return sendJson(res, 200, await schedules().triggerSchedule(id, overlap));
            case 'backfill': {
              if (typeof body.startAt !== 'string' || typeof body.endAt !== 'string') {
                throw new InvalidArgumentError(
                  'a backfill body is {"startAt": ISO time, "endAt": ISO time, "overlap"?}',
                );
              }
              const range = { startAt: body.startAt, endAt: body.endAt, ...(overlap ? { overlap } : {}) };
              return sendJson(res, 200, { actions: await schedules().backfillSchedule(id, range) });
            }
            case 'delete':
              await schedules().deleteSchedule(id);
              return sendJson(res, 200, {});
            default:
              throw new HttpError(
                404,
                'ROUTE_NOT_FOUND',
                `no schedule action ${JSON.stringify(params.action)} (pause, unpause, trigger, backfill, delete)`,
              );
          }
        },
      },
    },
    { pattern: ['health'], methods: { get: async ({ res }) => sendJson(res, 200, { status: 'ok' }) } },
    {
      pattern: ['cluster'],
      methods: { get: async ({ res }) => sendJson(res, 200, await service.cluster()) },
    },
    { pattern: ['events'], methods: { get: (ctx) => streamEvents(ctx) } },
    {
      pattern: ['time'],
      methods: { get: async ({ res }) => sendJson(res, 200, await timeControl().currentTime()) },
    },
    {
      pattern: ['time', 'skip'],
      methods: {
        post: async ({ req, res }) => {
          const { durationMs } = parseTimeSkipBody(await readJsonBody(req, bodyLimit));
          sendJson(res, 200, await timeControl().skipTime(durationMs));
        },
      },
    },
    {
      pattern: ['workflows', ':id', 'timers', 'fire'],
      methods: {
        post: async ({ req, res, params, query }) => {
          const ref = runRef(params, query);
          const { seq } = parseFireTimerBody(await readJsonBody(req, bodyLimit));
          sendJson(res, 200, await timeControl().fireTimer(ref, seq));
        },
      },
    },
    {
      pattern: ['workflows'],
      methods: {
        get: async ({ res, query }) => sendJson(res, 200, await service.list(listRequestOf(query))),
        post: async ({ req, res, query }) => {
          // `?wait=30s`: also the run's outcome, if it closes within the wait (a client's execute
          // saves its second request); without it, or while the run still runs, the start alone.
          // Checked before the start: a refused request starts nothing.
          const wait = query.get('wait');
          const waitMs = wait === null ? undefined : waitOf(wait);
          const started = await service.startWorkflow(parseStartBody(await readJsonBody(req, bodyLimit)));
          const outcome =
            waitMs === undefined
              ? undefined
              : await awaitOutcome(
                  res,
                  { workflowId: started.workflowId, runId: started.runId },
                  waitMs,
                  true,
                ).catch(() => undefined); // started all the same: the client asks for the result
          sendJson(res, started.started ? 201 : 200, outcome ? { ...started, outcome } : started);
        },
      },
    },
    {
      pattern: ['workflows', ':id'],
      methods: {
        get: async ({ res, params, query }) =>
          sendJson(res, 200, await service.describe(runRef(params, query))),
      },
    },
    {
      pattern: ['workflows', ':id', 'history'],
      methods: {
        get: async ({ res, params, query }) =>
          sendJson(res, 200, { events: await service.history(runRef(params, query)) }),
      },
    },
    { pattern: ['workflows', ':id', 'result'], methods: { get: (ctx) => longPollResult(ctx) } },
    {
      pattern: ['workflows', ':id', 'signal', ':name'],
      methods: {
        post: async ({ req, res, params, query }) => {
          const ref = runRef(params, query);
          const name = checkName('the signal name', params.name);
          const body = parseSignalBody(await readJsonBody(req, bodyLimit));
          await service.signal(ref, name, body.args, body.requestId, body.header);
          sendJson(res, 200, {});
        },
      },
    },
    {
      pattern: ['workflows', ':id', 'query', ':name'],
      methods: {
        post: async ({ req, res, params, query }) => {
          const ref = runRef(params, query);
          const name = checkName('the query name', params.name);
          const body = parseQueryBody(await readJsonBody(req, bodyLimit));
          const result = await service.query(ref, name, body.args);
          sendJson(res, 200, { result });
        },
      },
    },
    {
      pattern: ['workflows', ':id', 'update', ':name'],
      methods: {
        post: async ({ req, res, params, query }) => {
          const ref = runRef(params, query);
          const name = checkName('the update name', params.name);
          const body = parseUpdateBody(await readJsonBody(req, bodyLimit));
          const result = await service.update(ref, name, body.args, body.updateId, body.header);
          sendJson(res, 200, { result });
        },
      },
    },
    {
      pattern: ['workflows', ':id', 'cancel'],
      methods: {
        post: async ({ req, res, params, query }) => {
          const ref = runRef(params, query);
          const body = parseReasonBody(await readJsonBody(req, bodyLimit));
          await service.cancel(ref, body.reason);
          sendJson(res, 200, {});
        },
      },
    },
    {
      pattern: ['activities', 'complete'],
      methods: {
        post: async ({ req, res }) => {
          await activityCompletion().completeActivity(
            parseActivityCompleteBody(await readJsonBody(req, bodyLimit)),
          );
          sendJson(res, 200, {});
        },
      },
    },
    {
      pattern: ['activities', 'fail'],
      methods: {
        post: async ({ req, res }) => {
          await activityCompletion().failActivity(parseActivityFailBody(await readJsonBody(req, bodyLimit)));
          sendJson(res, 200, {});
        },
      },
    },
    {
      pattern: ['activities', 'heartbeat'],
      methods: {
        post: async ({ req, res }) => {
          await activityCompletion().heartbeatActivity(
            parseActivityHeartbeatBody(await readJsonBody(req, bodyLimit)),
          );
          sendJson(res, 200, {});
        },
      },
    },
    {
      pattern: ['workflows', ':id', 'terminate'],
      methods: {
        post: async ({ req, res, params, query }) => {
          const ref = runRef(params, query);
          const body = parseReasonBody(await readJsonBody(req, bodyLimit));
          await service.terminate(ref, body.reason);
          sendJson(res, 200, {});
        },
      },
    },
  ];

  function activityCompletion(): ActivityCompletionService {
    const candidate = service as WorkflowService & Partial<ActivityCompletionService>;
    if (typeof candidate.completeActivity === 'function') return candidate as ActivityCompletionService;
    throw new HttpError(501, 'NOT_IMPLEMENTED', 'this server does not complete activities by task token');
  }

  function schedules(): ScheduleService {
    const candidate = service as WorkflowService & Partial<ScheduleService>;
    if (typeof candidate.createSchedule === 'function') return candidate as ScheduleService;
    throw new HttpError(501, 'NOT_IMPLEMENTED', 'this server keeps no schedules');
  }

  function timeControl(): TimeControl {
    if (options.timeControl) return options.timeControl;
    throw new HttpError(501, 'NOT_IMPLEMENTED', 'this server does not control its time (wf dev does)');
  }

  async function longPollResult({ res, params, query }: Ctx): Promise<void> {
    const wait = query.get('wait');
    const outcome = await awaitOutcome(
      res,
      runRef(params, query),
      wait === null ? DEFAULT_RESULT_WAIT_MS : waitOf(wait),
      query.get('followRuns') !== 'false',
    );
    if (outcome) sendJson(res, 200, outcome);
    else sendJson(res, 202, { status: 'RUNNING' });
  }

  function waitOf(wait: string): number {
    return Math.min(parseDuration(wait, 'wait'), MAX_RESULT_WAIT_MS);
  }

  /** How the run closes, if it does within `waitMs`; undefined while it still runs. */
  async function awaitOutcome(
    res: ServerResponse,
    ref: RunRef,
    waitMs: number,
    followRuns: boolean,
  ): Promise<WorkflowOutcome | undefined> {
    // The service's own deadline comes after ours, so it only cleans up its waiter.
    const outcome = service.result({ ...ref, followRuns, waitTimeoutMs: waitMs + 1000 });
    outcome.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    let stopWaiting = () => {};
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), waitMs);
      stopWaiting = () => resolve('timeout');
    });
    // The caller went away or the server closes: stop waiting now.
    const cleanup = () => {
      clearTimeout(timer);
      stopWaiting();
    };
    cleanups.add(cleanup);
    res.once('close', cleanup);
    try {
      let first = await Promise.race([outcome, timedOut]);
      if (first === 'timeout') {
        // A closed run's outcome is a store read away: give it that chance before saying RUNNING.
        const settled = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 50));
        first = await Promise.race([outcome, settled]);
      }
      return first === 'timeout' ? undefined : first;
    } finally {
      cleanup();
      cleanups.delete(cleanup);
    }
  }

  async function streamEvents({ res, query }: Ctx): Promise<void> {
    const filter = query.get('workflowId');
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Content-Type-Options': 'nosniff',
    });
    res.write(': connected\n\n');
    streams.add(res);
    const unsubscribe = service.subscribe((notice: EventNotice) => {
      if (filter !== null && notice.workflowId !== filter) return;
      if (res.writableLength > SSE_MAX_BUFFERED_BYTES) {
        end();
        return;
      }
      res.write(`data: ${JSON.stringify(notice)}\n\n`);
    });
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(keepAlive);
      unsubscribe();
      streams.delete(res);
      cleanups.delete(end);
      res.end();
    };
    cleanups.add(end);
    res.once('close', end);
  }

  function checkToken(req: IncomingMessage, token: string): void {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m || !tokensEqual(m[1]!, token)) {
      throw new HttpError(
        401,
        'UNAUTHENTICATED',
        header
          ? 'refused: the API token is wrong. Send the server\'s token (--api-token or WF_API_TOKEN) as "Authorization: Bearer <token>".'
          : 'refused: this server requires an API token. Pass --api-token or set WF_API_TOKEN (sent as "Authorization: Bearer <token>").',
        { 'WWW-Authenticate': 'Bearer realm="wf"' },
      );
    }
  }

  function checkHeaders(req: IncomingMessage): void {
    const hostHeader = req.headers.host;
    if (!hostHeader || !hostAllowed(hostHeader, port, extraHosts)) {
      throw new HttpError(
        403,
        'FORBIDDEN',
        `refused: Host ${JSON.stringify(hostHeader ?? '')} is not a loopback address of this server. ` +
          `Use http://127.0.0.1:${port} (the dev server answers loopback names only, to defeat DNS rebinding).`,
      );
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !originAllowed(origin, extraHosts, port)) {
      throw new HttpError(
        403,
        'FORBIDDEN',
        `refused: Origin ${JSON.stringify(origin)} is not this server's own origin. ` +
          'Web pages (other sites, or other apps on localhost) may not drive the dev server.',
      );
    }
    // A browser sends "simple" cross-origin POSTs (text/plain, forms) without a preflight; only a
    // JSON content type forces one. Browsers always send Origin on POST; the CLI and curl do not.
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (req.method === 'POST' && origin !== undefined && contentType !== 'application/json') {
      throw new HttpError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'send request bodies as JSON with "Content-Type: application/json"',
      );
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const rawUrl = req.url ?? '/';
      const q = rawUrl.indexOf('?');
      // Not new URL(): it would resolve `..` segments, and `..` is a valid workflow ID.
      const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
      const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
      // The UI's files hold no data: with a token they are served without one (a browser cannot
      // send it on a page load), and the page then asks for the token to call the API.
      const uiRequest =
        webUi !== undefined && (req.method === 'GET' || req.method === 'HEAD') && webUi.handles(rawPath);
      if (options.apiToken === undefined) checkHeaders(req);
      else if (!uiRequest) checkToken(req, options.apiToken);
      if (uiRequest) {
        await webUi.serve(req, res, rawPath, query);
        return;
      }
      if (rawPath === METRICS_PATH && options.metrics) {
        await serveMetrics(req, res, options.metrics);
        return;
      }
      if (options.only === 'metrics') {
        throw new HttpError(
          404,
          'NOT_FOUND',
          `no route ${rawPath}: this is the metrics port, it serves GET ${METRICS_PATH} only (the API is on the API port)`,
        );
      }
      if (!rawPath.startsWith(`${API_PREFIX}/`)) throw notFound(rawPath);
      const segments = rawPath.slice(API_PREFIX.length + 1).split('/');
      for (const route of routes) {
        const params = match(route.pattern, segments);
        if (!params) continue;
        const method = (req.method === 'HEAD' ? 'GET' : (req.method ?? '')).toLowerCase();
        const handler = Object.hasOwn(route.methods, method)
          ? route.methods[method as 'get' | 'post']
          : undefined;
        if (!handler) {
          const allow = Object.keys(route.methods)
            .map((m) => m.toUpperCase())
            .join(', ');
          throw new HttpError(
            405,
            'METHOD_NOT_ALLOWED',
            `${req.method} is not allowed on ${rawPath}: use ${allow}`,
            {
              Allow: allow,
            },
          );
        }
        await handler({ req, res, params, query });
        return;
      }
      throw notFound(rawPath);
    } catch (err) {
      sendError(res, err, options.onInternalError);
      // Unread body bytes (a 413, an early refusal) are drained so the connection stays usable.
      if (!req.complete) req.resume();
    }
  }

  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // Node ignores a headers timeout longer than the request timeout.
  const headersTimeout = Math.min(options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeout);
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const server: Server = createServer(
    {
      headersTimeout,
      requestTimeout,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
      // Node checks both timeouts on this interval (30 s by default, which would stretch a 10 s
      // headers timeout to 40 s): check at a quarter of the shorter one.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    (req, res) => {
      void handle(req, res);
    },
  );
  server.maxConnections = maxConnections;
  server.on('drop', () => {
    options.onConnectionRefused?.({ open: maxConnections, max: maxConnections });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') {
        reject(
          new WfError(
            'UNAVAILABLE',
            `port ${requestedPort} is in use (another \`wf dev\`?): stop it, or start with --port N`,
            { cause: err },
          ),
        );
      } else if (err.code === 'EACCES') {
        reject(
          new WfError(
            'UNAVAILABLE',
            `no permission to listen on ${host}:${requestedPort}: pick a port above 1024 with --port N`,
            { cause: err },
          ),
        );
      } else {
        reject(
          new WfError('UNAVAILABLE', `cannot listen on ${host}:${requestedPort}: ${err.message}`, {
            cause: err,
          }),
        );
      }
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(requestedPort, host);
  });
  port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    async close() {
      for (const cleanup of [...cleanups]) cleanup();
      for (const res of streams) res.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Answers a scrape: GET (or HEAD) only. */
async function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  metrics: MetricsEndpoint,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    throw new HttpError(
      405,
      'METHOD_NOT_ALLOWED',
      `${req.method} is not allowed on ${METRICS_PATH}: use GET`,
      {
        Allow: 'GET',
      },
    );
  }
  const body = await metrics.render();
  res.writeHead(200, {
    'Content-Type': metrics.contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function notFound(path: string): HttpError {
  return new HttpError(
    404,
    'ROUTE_NOT_FOUND',
    `no route ${path}: the API lives under ${API_PREFIX}, see docs/http-api.md`,
  );
}

function match(pattern: string[], segments: string[]): Params | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Params = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = segments[i]!;
    if (p.startsWith(':')) {
      if (s === '') return undefined;
      try {
        params[p.slice(1)] = decodeURIComponent(s);
      } catch {
        throw new InvalidArgumentError(`path segment ${JSON.stringify(s)} is not valid percent-encoding`);
      }
    } else if (p !== s) {
      return undefined;
    }
  }
  return params;
}

/** Compares two tokens in time that does not depend on where they differ (digests have one length). */
function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function hostAllowed(hostHeader: string, port: number, extra: Set<string>): boolean {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(hostHeader.trim().toLowerCase());
  if (!m) return false;
  const name = m[1]!;
  const hostPort = m[2] === undefined ? 80 : Number(m[2]);
  return hostPort === port && (LOOPBACK_NAMES.has(name) || extra.has(name));
}

function originAllowed(origin: string, extra: Set<string>, port: number): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // includes the opaque origin "null"
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const name = url.hostname.toLowerCase();
  if (extra.has(name)) return true;
  // A loopback origin on another port is another app (any local web page): only this server's own.
  const originPort = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return LOOPBACK_NAMES.has(name) && originPort === port;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown, onInternalError?: (err: unknown) => void): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof HttpError) {
    sendJson(res, err.status, { error: { code: err.code, message: err.message } }, err.headers);
  } else if (err instanceof WfError) {
    sendJson(res, STATUS_OF_CODE[err.code] ?? 500, { error: wfErrorToWire(err) });
  } else if (err instanceof RunNotFoundError) {
    const { workflowId, runId } = err.key;
    sendJson(res, 404, {
      error: { code: 'NOT_FOUND', message: err.message, details: { workflowId, runId } },
    });
  } else if (err instanceof HistoryCorruptError) {
    sendJson(res, 409, { error: { code: 'CORRUPT', message: err.message, details: { ...err.corruption } } });
  } else {
    onInternalError?.(err);
    const message = err instanceof Error ? err.message : String(err);
    sendJson(res, 500, {
      error: {
        code: 'INTERNAL',
        message: `internal error in the wf dev server: ${message}. This is a bug in wf: please report it with the steps that led here.`,
      },
    });
  }
}

async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = await readBody(req, limit);
  if (text.trim() === '') return {};
  try {
    // JSON.parse defines a "__proto__" key as an own data property, never as a prototype: payloads
    // keep such keys (and read back with them), and the fields of a body are read as own properties.
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`request body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Reads the body as UTF-8. A body over the limit is read to its end and dropped before the 413 goes
 * out, because a client still sending when the server closes sees a reset instead of the answer;
 * only a body far over the limit (64x) is cut off at once.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = () =>
    new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than the limit of ${limit} bytes`, {
      Connection: 'close',
    });
  const hardCap = limit * 64;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > hardCap) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > hardCap) {
        cleanup();
        reject(tooLarge());
      } else if (size <= limit) {
        chunks.push(chunk);
      }
    };
    const onEnd = () => {
      cleanup();
      if (size > limit) reject(tooLarge());
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function runRef(params: Params, query: URLSearchParams): RunRef {
  const workflowId = checkName('the workflow ID', params.id);
  const runId = query.get('runId');
  return runId ? { workflowId, runId: checkName('the run ID', runId) } : { workflowId };
}

/** `GET /workflows`: the URL's filter, page and list query (the query's text is parsed by the engine, common/list-query). */
function listRequestOf(query: URLSearchParams): ListRequest {
  const req: ListRequest = {};
  const status = query.get('status');
  if (status) {
    const upper = status.toUpperCase() as RunStatus | 'CORRUPT';
    if (!RUN_STATUSES.has(upper)) {
      throw new InvalidArgumentError(
        `status must be one of ${[...RUN_STATUSES].join(', ')}; got ${JSON.stringify(status)}`,
      );
    }
    req.status = upper;
  }
  const type = query.get('type');
  if (type) req.workflowType = type;
  const workflowId = query.get('workflowId');
  if (workflowId) req.workflowId = workflowId;
  const pageSize = query.get('pageSize');
  if (pageSize) {
    const n = Number(pageSize);
    if (!Number.isInteger(n) || n < 1 || n > 1000) {
      throw new InvalidArgumentError(
        `pageSize must be an integer from 1 to 1000; got ${JSON.stringify(pageSize)}`,
      );
    }
    req.pageSize = n;
  }
  const token = query.get('nextPageToken');
  if (token) req.nextPageToken = token;
  const filter = query.get('query');
  if (filter) req.query = filter;
  return req;
}

function objectBody(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new InvalidArgumentError('the request body must be a JSON object');
  return raw as Record<string, unknown>;
}

/** `POST /schedules`: the definition's shape; the engine checks its values. */
function parseScheduleBody(raw: unknown): ScheduleDefinition {
  const body = objectBody(raw);
  for (const key of Object.keys(body)) {
    if (!['scheduleId', 'spec', 'action', 'policies', 'state'].includes(key)) {
      throw new InvalidArgumentError(
        `unknown field ${JSON.stringify(key)} in a schedule (scheduleId, spec, action, policies, state)`,
      );
    }
  }
  if (typeof body.spec !== 'object' || body.spec === null)
    throw new InvalidArgumentError('a schedule needs "spec"');
  if (typeof body.action !== 'object' || body.action === null)
    throw new InvalidArgumentError('a schedule needs "action"');
  return body as unknown as ScheduleDefinition;
}
