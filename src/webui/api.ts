/**
 * The browser's side of the HTTP API (docs/http-api.md): same-origin fetches with the API token
 * (when the server wants one) as a bearer header, and the server's JSON errors as ApiError.
 */
import type { ScheduleDescription } from '../common/schedules.js';
import type {
  HistoryEvent,
  ListResponse,
  RunDescription,
  RunRef,
  StartWorkflowRequest,
  StartWorkflowResponse,
  TimeInfo,
} from '../protocol/service.js';

const TOKEN_KEY = 'wf.apiToken';
const PREFIX = '/api/v1';

/** An answer of the server other than 2xx, with its error code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function storedToken(): string | undefined {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function storeToken(token: string | undefined): void {
  try {
    if (token === undefined) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage refused (a private window's quota): the token lasts until the page reloads.
  }
}

/** Headers every request carries: the bearer token when one is stored. */
export function authHeaders(): Record<string, string> {
  const token = storedToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/**
 * A workflow ID (or any name) as one path segment. `.` and `..` are percent-encoded because clients
 * resolve them before sending (the server reads `%2E` back as `.`).
 */
export function segment(value: string): string {
  if (value === '.') return '%2E';
  if (value === '..') return '%2E%2E';
  return encodeURIComponent(value);
}

function runPath(ref: RunRef, suffix = ''): string {
  const query = ref.runId ? `?runId=${encodeURIComponent(ref.runId)}` : '';
  return `${PREFIX}/workflows/${segment(ref.workflowId)}${suffix}${query}`;
}

async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    cache: 'no-store',
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, error?.code ?? `HTTP_${res.status}`, error?.message ?? res.statusText);
  }
  return parsed as T;
}

export interface ListParams {
  status?: string;
  type?: string;
  /** Runs whose workflow ID starts with this. */
  search?: string;
  /** A list query in Temporal's syntax (`CustomerId = "c-1"`), ANDed with the search. */
  query?: string;
  pageSize?: number;
  nextPageToken?: string;
}

/** A string as a list-query literal (docs/http-api.md, Listing): quotes and backslashes escaped. */
export function queryString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export interface SourceLine {
  line: number;
  text: string;
}

/** The lines around one call site of a run's code (GET .../source). */
export interface SourceFrame {
  file: string;
  line: number;
  column?: number;
  lines: SourceLine[];
}

/** `GET /api/v1/info`: what the page adapts to. */
export interface ServerInfo {
  workflowTypes?: string[];
  timeControl: boolean;
  /** The server keeps schedules (GET /api/v1/schedules). */
  schedules: boolean;
  tokenRequired: boolean;
}

export const api = {
  list(params: ListParams): Promise<ListResponse> {
    const q = new URLSearchParams();
    q.set('pageSize', String(params.pageSize ?? 50));
    if (params.status) q.set('status', params.status);
    if (params.type) q.set('type', params.type);
    const query = [
      ...(params.query ? [`(${params.query})`] : []),
      ...(params.search ? [`WorkflowId STARTS_WITH ${queryString(params.search)}`] : []),
    ].join(' AND ');
    if (query) q.set('query', query);
    if (params.nextPageToken) q.set('nextPageToken', params.nextPageToken);
    return request('GET', `${PREFIX}/workflows?${q}`);
  },
  runsOf(workflowId: string): Promise<ListResponse> {
    const q = new URLSearchParams({ workflowId, pageSize: '100' });
    return request('GET', `${PREFIX}/workflows?${q}`);
  },
  describe: (ref: RunRef) => request<RunDescription>('GET', runPath(ref)),
  history: async (ref: RunRef) =>
    (await request<{ events: HistoryEvent[] }>('GET', runPath(ref, '/history'))).events,
  source: async (ref: RunRef) =>
    (await request<{ frames: SourceFrame[] }>('GET', runPath(ref, '/source'))).frames,
  info: () => request<ServerInfo>('GET', `${PREFIX}/info`),
  start: (req: StartWorkflowRequest) => request<StartWorkflowResponse>('POST', `${PREFIX}/workflows`, req),
  signal: (ref: RunRef, name: string, args: unknown[]) =>
    request<object>('POST', runPath(ref, `/signal/${segment(name)}`), { args }),
  query: (ref: RunRef, name: string, args: unknown[]) =>
    request<{ result?: unknown }>('POST', runPath(ref, `/query/${segment(name)}`), { args }),
  update: (ref: RunRef, name: string, args: unknown[]) =>
    request<{ result?: unknown }>('POST', runPath(ref, `/update/${segment(name)}`), { args }),
  cancel: (ref: RunRef, reason?: string) =>
    request<object>('POST', runPath(ref, '/cancel'), reason ? { reason } : {}),
  terminate: (ref: RunRef, reason?: string) =>
    request<object>('POST', runPath(ref, '/terminate'), reason ? { reason } : {}),
  time: () => request<TimeInfo>('GET', `${PREFIX}/time`),
  schedules: async () =>
    (await request<{ schedules: ScheduleDescription[] }>('GET', `${PREFIX}/schedules`)).schedules,
  scheduleAction: (scheduleId: string, action: 'pause' | 'unpause' | 'trigger' | 'delete') =>
    request<unknown>('POST', `${PREFIX}/schedules/${segment(scheduleId)}/${action}`, {}),
  skipTime: (duration: string) => request<TimeInfo>('POST', `${PREFIX}/time/skip`, { duration }),
  fireTimer: (ref: RunRef, seq: number) => request<object>('POST', runPath(ref, '/timers/fire'), { seq }),
};
