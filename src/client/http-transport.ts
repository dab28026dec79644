import { setMaxListeners } from 'node:events';
import { Pool } from 'undici';
import { parseAddress } from '../common/address.js';
import { DEFAULT_ADDRESS } from '../common/defaults.js';
import { isWfErrorCode, type WireError, wfErrorFromWire } from '../common/error-wire.js';
import { WfError, type WfErrorCode } from '../common/errors.js';
import { checkName } from '../common/request-rules.js';
import type {
  ScheduleActionResult,
  ScheduleDefinition,
  ScheduleDescription,
  ScheduleOverlapPolicy,
} from '../common/schedules.js';
import type { TraceHeader } from '../common/trace-header.js';
import type { FailureInfo, HistoryEvent } from '../history/events.js';
import type {
  ActivityCompletionService,
  ClusterInfo,
  EventNotice,
  FiredTimer,
  ListRequest,
  ListResponse,
  ResultRequest,
  RunDescription,
  RunRef,
  ScheduleService,
  StartWorkflowRequest,
  StartWorkflowResponse,
  TimeControl,
  TimeInfo,
  WorkflowOutcome,
  WorkflowService,
} from '../protocol/service.js';

const API = '/api/v1';
/** Each long poll asks the server to hold the request this long (the server caps it at 120 s). */
const POLL_WAIT_MS = 30_000;
const SSE_RECONNECT_MS = 1000;
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

export interface HttpWorkflowServiceOptions {
  /**
   * The dev server: `host:port`, `:port`, `[::1]:port` or `http(s)://host:port`. Default WF_ADDRESS,
   * then http://127.0.0.1:7466.
   */
  address?: string;
  /** Told when an event stream drops and is being reopened. */
  onStreamError?: (err: WfError) => void;
  /** The server's API token (`wf serve` off loopback requires one). Default WF_API_TOKEN. */
  apiToken?: string;
}

export interface SubscribeOptions {
  /** Only events of this workflow ID. */
  workflowId?: string;
  /** Called once the stream is open, so events appended after it are sure to arrive. */
  onOpen?: () => void;
}

/**
 * The WorkflowService interface over a dev server's HTTP API: errors come back as the same WfError
 * subclasses an in-process engine throws.
 */
export class HttpWorkflowService
  implements WorkflowService, TimeControl, ActivityCompletionService, ScheduleService
{
  readonly address: string;
  private readonly pool: Pool;
  private readonly closing = new AbortController();
  private readonly onStreamError: ((err: WfError) => void) | undefined;
  private readonly auth: Record<string, string>;

  constructor(options: HttpWorkflowServiceOptions = {}) {
    // Every request in flight listens on this signal; hundreds at once are normal for a client.
    setMaxListeners(0, this.closing.signal);
    const origin = parseAddress(options.address ?? process.env.WF_ADDRESS ?? DEFAULT_ADDRESS);
    this.address = origin;
    this.pool = new Pool(origin);
    this.onStreamError = options.onStreamError;
    const token = options.apiToken ?? process.env.WF_API_TOKEN;
    this.auth = token ? { authorization: `Bearer ${token}` } : {};
  }

  async startWorkflow(req: StartWorkflowRequest): Promise<StartWorkflowResponse> {
    return (await this.call('POST', `${API}/workflows`, req)) as StartWorkflowResponse;
  }

  async startWorkflowAndWait(
    req: StartWorkflowRequest,
  ): Promise<StartWorkflowResponse & { outcome?: WorkflowOutcome }> {
    const wait = new URLSearchParams({ wait: `${POLL_WAIT_MS}ms` });
    return (await this.call('POST', `${API}/workflows?${wait}`, req)) as StartWorkflowResponse & {
      outcome?: WorkflowOutcome;
    };
  }

  async describe(ref: RunRef): Promise<RunDescription> {
    return (await this.call('GET', runPath(ref))) as RunDescription;
  }

  async list(req: ListRequest = {}): Promise<ListResponse> {
    const q = new URLSearchParams();
    if (req.status) q.set('status', req.status);
    if (req.workflowType) q.set('type', req.workflowType);
    if (req.workflowId) q.set('workflowId', req.workflowId);
    if (req.pageSize !== undefined) q.set('pageSize', String(req.pageSize));
    if (req.nextPageToken) q.set('nextPageToken', req.nextPageToken);
    if (req.query) q.set('query', req.query);
    const qs = q.toString();
    return (await this.call('GET', `${API}/workflows${qs ? `?${qs}` : ''}`)) as ListResponse;
  }

  async history(ref: RunRef): Promise<HistoryEvent[]> {
    return ((await this.call('GET', runPath(ref, '/history'))) as { events: HistoryEvent[] }).events;
  }

  async signal(
    ref: RunRef,
    signalName: string,
    args: unknown[],
    requestId?: string,
    header?: TraceHeader,
  ): Promise<void> {
    await this.call('POST', runPath(ref, `/signal/${encodeSegment(signalName, 'the signal name')}`), {
      args,
      ...(requestId === undefined ? {} : { requestId }),
      ...(header ? { header } : {}),
    });
  }

  async query(ref: RunRef, queryName: string, args: unknown[]): Promise<unknown> {
    return (
      (await this.call('POST', runPath(ref, `/query/${encodeSegment(queryName, 'the query name')}`), {
        args,
      })) as {
        result: unknown;
      }
    ).result;
  }

  async update(
    ref: RunRef,
    updateName: string,
    args: unknown[],
    updateId?: string,
    header?: TraceHeader,
  ): Promise<unknown> {
    const body = { args, ...(updateId === undefined ? {} : { updateId }), ...(header ? { header } : {}) };
    return (
      (await this.call(
        'POST',
        runPath(ref, `/update/${encodeSegment(updateName, 'the update name')}`),
        body,
      )) as {
        result: unknown;
      }
    ).result;
  }

  async cancel(ref: RunRef, reason?: string): Promise<void> {
    await this.call('POST', runPath(ref, '/cancel'), reason === undefined ? {} : { reason });
  }

  async terminate(ref: RunRef, reason?: string): Promise<void> {
    await this.call('POST', runPath(ref, '/terminate'), reason === undefined ? {} : { reason });
  }

  async completeActivity(req: { taskToken: string; result?: unknown }): Promise<void> {
    await this.call('POST', `${API}/activities/complete`, req);
  }

  async failActivity(req: { taskToken: string; failure: FailureInfo }): Promise<void> {
    await this.call('POST', `${API}/activities/fail`, req);
  }

  async heartbeatActivity(req: { taskToken: string; details?: unknown }): Promise<void> {
    await this.call('POST', `${API}/activities/heartbeat`, req);
  }

  /** The server's time: real time plus what `wf time skip` added. */
  async cluster(): Promise<ClusterInfo> {
    return (await this.call('GET', `${API}/cluster`)) as ClusterInfo;
  }

  async createSchedule(definition: ScheduleDefinition): Promise<ScheduleDescription> {
    return (await this.call('POST', `${API}/schedules`, definition)) as ScheduleDescription;
  }

  async describeSchedule(scheduleId: string): Promise<ScheduleDescription> {
    return (await this.call(
      'GET',
      `${API}/schedules/${encodeURIComponent(scheduleId)}`,
    )) as ScheduleDescription;
  }

  async listSchedules(): Promise<ScheduleDescription[]> {
    return ((await this.call('GET', `${API}/schedules`)) as { schedules: ScheduleDescription[] }).schedules;
  }

  async pauseSchedule(scheduleId: string, note?: string): Promise<ScheduleDescription> {
    return (await this.scheduleAction(
      scheduleId,
      'pause',
      note === undefined ? {} : { note },
    )) as ScheduleDescription;
  }

  async unpauseSchedule(scheduleId: string, note?: string): Promise<ScheduleDescription> {
    return (await this.scheduleAction(
      scheduleId,
      'unpause',
      note === undefined ? {} : { note },
    )) as ScheduleDescription;
  }

  async triggerSchedule(scheduleId: string, overlap?: ScheduleOverlapPolicy): Promise<ScheduleActionResult> {
    return (await this.scheduleAction(
      scheduleId,
      'trigger',
      overlap ? { overlap } : {},
    )) as ScheduleActionResult;
  }

  async backfillSchedule(
    scheduleId: string,
    range: { startAt: string; endAt: string; overlap?: ScheduleOverlapPolicy },
  ): Promise<ScheduleActionResult[]> {
    return ((await this.scheduleAction(scheduleId, 'backfill', range)) as { actions: ScheduleActionResult[] })
      .actions;
  }

  async deleteSchedule(scheduleId: string): Promise<void> {
    await this.scheduleAction(scheduleId, 'delete', {});
  }

  private scheduleAction(scheduleId: string, action: string, body: object): Promise<unknown> {
    return this.call('POST', `${API}/schedules/${encodeURIComponent(scheduleId)}/${action}`, body);
  }

  async currentTime(): Promise<TimeInfo> {
    return (await this.call('GET', `${API}/time`)) as TimeInfo;
  }

  /** Moves the server's clock forward by `ms`; timers due by then fire at once. */
  async skipTime(ms: number): Promise<TimeInfo> {
    return (await this.call('POST', `${API}/time/skip`, { duration: ms })) as TimeInfo;
  }

  /** Fires a pending timer of a run now: the earliest, or the one numbered `seq`. */
  async fireTimer(ref: RunRef, seq?: number): Promise<FiredTimer> {
    return (await this.call(
      'POST',
      runPath(ref, '/timers/fire'),
      seq === undefined ? {} : { seq },
    )) as FiredTimer;
  }

  /** Long-polls the server, asking again on every 202, until the run closes or `waitTimeoutMs` passes. */
  async result(req: ResultRequest): Promise<WorkflowOutcome> {
    const deadline =
      req.waitTimeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + req.waitTimeoutMs;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const err = new WfError(
          'UNAVAILABLE',
          `workflow ${JSON.stringify(req.workflowId)} did not close within ${req.waitTimeoutMs} ms`,
        );
        err.name = 'ResultTimeoutError';
        throw err;
      }
      const q = new URLSearchParams({ wait: `${Math.ceil(Math.min(POLL_WAIT_MS, remaining))}ms` });
      if (req.followRuns === false) q.set('followRuns', 'false');
      const { status, body } = await this.send('GET', runPath(req, '/result', q));
      if (status === 202) continue;
      return body as WorkflowOutcome;
    }
  }

  /**
   * Calls `listener` for every event the server publishes from now on, over server-sent events,
   * reopening the stream if it drops. Returns an unsubscribe function.
   */
  subscribe(listener: (notice: EventNotice) => void, options: SubscribeOptions = {}): () => void {
    const stop = new AbortController();
    const onClose = () => stop.abort();
    this.closing.signal.addEventListener('abort', onClose);
    const path = `${API}/events${options.workflowId ? `?${new URLSearchParams({ workflowId: options.workflowId })}` : ''}`;
    const loop = async () => {
      let opened = false;
      while (!stop.signal.aborted) {
        try {
          await this.readEvents(path, stop.signal, listener, () => {
            if (!opened) options.onOpen?.();
            opened = true;
          });
        } catch (err) {
          if (stop.signal.aborted) return;
          this.onStreamError?.(toWfError(err, this.address));
        }
        if (stop.signal.aborted) return;
        await new Promise((r) => setTimeout(r, SSE_RECONNECT_MS));
      }
    };
    void loop();
    return () => {
      this.closing.signal.removeEventListener('abort', onClose);
      stop.abort();
    };
  }

  /** Ends event streams and polls in flight and closes the connections. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.pool.destroy();
  }

  private async readEvents(
    path: string,
    signal: AbortSignal,
    listener: (notice: EventNotice) => void,
    onOpen: () => void,
  ): Promise<void> {
    const res = await this.pool.request({
      method: 'GET',
      path,
      headers: { accept: 'text/event-stream', ...this.auth },
      signal,
      bodyTimeout: 0,
    });
    if (res.statusCode !== 200) {
      throw errorFromResponse(res.statusCode, await res.body.text(), this.address);
    }
    onOpen();
    // undici's body ignores setEncoding: decode by hand, keeping split multi-byte characters whole.
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
          .join('\n');
        if (data) listener(JSON.parse(data) as EventNotice);
        end = buffer.indexOf('\n\n');
      }
    }
  }

  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    return (await this.send(method, path, body)).body;
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    let statusCode: number;
    let text: string;
    try {
      const res = await this.pool.request({
        method,
        path,
        headers:
          body === undefined
            ? { accept: 'application/json', ...this.auth }
            : { accept: 'application/json', 'content-type': 'application/json', ...this.auth },
        body: body === undefined ? null : JSON.stringify(body),
        signal: this.closing.signal,
      });
      statusCode = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      throw toWfError(err, this.address);
    }
    if (statusCode >= 400) throw errorFromResponse(statusCode, text, this.address);
    try {
      return { status: statusCode, body: text === '' ? undefined : JSON.parse(text) };
    } catch {
      throw new WfError(
        'INTERNAL',
        `the server at ${this.address} sent a response that is not JSON: ${text.slice(0, 200)}`,
      );
    }
  }
}

/**
 * A path segment for an ID or a name. `.` and `..` are spelled with %2E: left bare, path resolution
 * on the way would drop or climb them.
 */
export function encodeSegment(value: string, what = 'an ID or a name'): string {
  checkName(what, value);
  const encoded = encodeURIComponent(value);
  return encoded === '.' || encoded === '..' ? encoded.replaceAll('.', '%2E') : encoded;
}

function runPath(ref: RunRef, suffix = '', query = new URLSearchParams()): string {
  // Checked here: a URL would carry a lone surrogate as U+FFFD, and so name another run.
  if (ref.runId) query.set('runId', checkName('the run ID', ref.runId));
  const qs = query.toString();
  return `${API}/workflows/${encodeSegment(ref.workflowId, 'the workflow ID')}${suffix}${qs ? `?${qs}` : ''}`;
}

const CODE_OF_STATUS: Record<number, WfErrorCode> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAVAILABLE',
  413: 'INVALID_ARGUMENT',
  403: 'UNAVAILABLE',
  501: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
};

function errorFromResponse(status: number, text: string, address: string): WfError {
  let wire: Partial<WireError> | undefined;
  try {
    wire = (JSON.parse(text) as { error?: Partial<WireError> }).error;
  } catch {
    // not JSON: a proxy or some other server answered
  }
  if (!wire || typeof wire.message !== 'string') {
    // Not our error format: something else listens there (another server, a proxy).
    return new WfError(
      'UNAVAILABLE',
      `${address} answered ${status} but is not a wf dev server (check --address or WF_ADDRESS): ${text
        .slice(0, 120)
        .replace(/\s+/g, ' ')
        .trim()}`,
    );
  }
  const httpCode = wire.code as string | undefined;
  if (httpCode === 'ROUTE_NOT_FOUND' || httpCode === 'METHOD_NOT_ALLOWED') {
    return new WfError(
      'UNAVAILABLE',
      `${address} does not know this request (${wire.message}): is it a wf dev server of the same version as this wf?`,
    );
  }
  if (isWfErrorCode(wire.code)) return wfErrorFromWire(wire as WireError);
  // HTTP-level refusals (FORBIDDEN, PAYLOAD_TOO_LARGE, ROUTE_NOT_FOUND...): keep the server's words.
  const err = new WfError(CODE_OF_STATUS[status] ?? 'INTERNAL', wire.message);
  if (typeof wire.code === 'string') err.name = wire.code;
  return err;
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown }; errors?: { code?: unknown }[] } | undefined;
  for (const c of [e?.code, e?.cause?.code, e?.errors?.[0]?.code]) if (typeof c === 'string') return c;
  return undefined;
}

function toWfError(err: unknown, address: string): WfError {
  if (err instanceof WfError) return err;
  const code = errorCode(err);
  if (code === 'ECONNREFUSED') {
    return new WfError('UNAVAILABLE', `no wf dev server at ${address}: start one with \`wf dev\``, {
      cause: err,
    });
  }
  if (code !== undefined && CONNECTION_ERROR_CODES.has(code)) {
    return new WfError(
      'UNAVAILABLE',
      `lost the connection to the wf dev server at ${address} (${code}): is it still running?`,
      {
        cause: err,
      },
    );
  }
  if ((err as Error)?.name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'UND_ERR_DESTROYED') {
    return new WfError('UNAVAILABLE', 'the client was closed while a call was in flight', { cause: err });
  }
  return new WfError('INTERNAL', `call to ${address} failed: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
  });
}
