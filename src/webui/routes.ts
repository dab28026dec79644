/**
 * The page's addresses: `/` (the runs, with `?status=&type=&q=`) and `/runs/<workflowId>/<runId>`
 * (one run; `/runs/<workflowId>` is its latest run). Built from IDs with encodeURIComponent only.
 */
import { useEffect, useState } from 'react';

export type Route =
  | { page: 'runs'; status: string; type: string; search: string; query: string }
  | { page: 'run'; workflowId: string; runId?: string }
  | { page: 'schedules' }
  | { page: 'not-found'; path: string };

/**
 * IDs made only of dots would be resolved away as `.`/`..` segments by the browser (also when
 * percent-encoded), so those travel in the query instead.
 */
const DOTS = /^\.{1,2}$/;

export function runHref(workflowId: string, runId?: string): string {
  if (DOTS.test(workflowId)) {
    const q = new URLSearchParams({ workflowId, ...(runId ? { runId } : {}) });
    return `/runs?${q}`;
  }
  return `/runs/${encodeURIComponent(workflowId)}${runId ? `/${encodeURIComponent(runId)}` : ''}`;
}

export function runsHref(filters: {
  status?: string;
  type?: string;
  search?: string;
  query?: string;
}): string {
  const q = new URLSearchParams();
  if (filters.status) q.set('status', filters.status);
  if (filters.type) q.set('type', filters.type);
  if (filters.search) q.set('q', filters.search);
  if (filters.query) q.set('query', filters.query);
  const text = q.toString();
  return text ? `/?${text}` : '/';
}

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

export function parseRoute(pathname: string, search: string): Route {
  const q = new URLSearchParams(search);
  if (pathname === '/' || pathname === '') {
    return {
      page: 'runs',
      status: q.get('status') ?? '',
      type: q.get('type') ?? '',
      search: q.get('q') ?? '',
      query: q.get('query') ?? '',
    };
  }
  if (pathname === '/schedules') return { page: 'schedules' };
  if (pathname === '/runs' || pathname === '/runs/') {
    const workflowId = q.get('workflowId');
    if (workflowId) {
      const runId = q.get('runId');
      return runId ? { page: 'run', workflowId, runId } : { page: 'run', workflowId };
    }
    return { page: 'runs', status: '', type: '', search: '', query: '' };
  }
  const m = /^\/runs\/([^/]+)(?:\/([^/]+))?\/?$/.exec(pathname);
  if (m) {
    const workflowId = decode(m[1]!);
    const runId = m[2] === undefined ? undefined : decode(m[2]);
    if (workflowId !== undefined && (m[2] === undefined || runId !== undefined)) {
      return runId ? { page: 'run', workflowId, runId } : { page: 'run', workflowId };
    }
  }
  return { page: 'not-found', path: pathname };
}

const listeners = new Set<() => void>();

/** Goes to `href` (same origin) without reloading the page. */
export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  for (const listener of listeners) listener();
}

function readRoute(): Route {
  return parseRoute(location.pathname, location.search);
}

/** The current route, updated on navigate() and on the browser's back and forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(readRoute);
  useEffect(() => {
    const update = () => setRoute(readRoute());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

let lastRunsHref = '/';

/** Remembers the list's address (its filters), so Esc on a run goes back to the same list. */
export function rememberRunsHref(href: string): void {
  lastRunsHref = href;
}

export function backToRunsHref(): string {
  return lastRunsHref;
}
