/**
 * The web UI's files (docs/web-ui.md), served by the HTTP API on its own origin: the HTML shell at
 * `/` and at every page address (`/runs/...`), and the bundle built by scripts/build-ui.js under
 * `/ui/`. A Content-Security-Policy allows scripts, styles and connections from this origin only
 * (no inline script), so a string from a history can never run as code even if it reached the DOM.
 */

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** dist/ui-assets, from both dist/devserver (the package) and src/devserver (tests from source). */
export const DEFAULT_UI_ASSETS_DIR = fileURLToPath(new URL('../../dist/ui-assets/', import.meta.url));

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2358c8"/>' +
  '<text x="16" y="22" font-family="sans-serif" font-size="15" font-weight="700" fill="#fff" text-anchor="middle">wf</text></svg>';

interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
}

export interface WebUi {
  /** True for the paths the UI answers: `/`, `/runs...`, `/schedules` and `/ui/...`. */
  handles(path: string): boolean;
  /** Answers a GET or HEAD of such a path. */
  serve(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void>;
}

/** Page addresses answered with the shell (the browser code routes them). */
function isPage(path: string): boolean {
  return path === '/' || path === '/runs' || path.startsWith('/runs/') || path === '/schedules';
}

function asset(body: Buffer, type: string): Asset {
  return {
    body,
    gzip: gzipSync(body, { level: 9 }),
    type,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

interface Loaded {
  shell: Asset;
  files: Map<string, Asset>;
  version: string;
}

async function load(dir: string): Promise<Loaded | undefined> {
  let js: Buffer;
  let css: Buffer;
  try {
    [js, css] = await Promise.all([readFile(`${dir}/app.js`), readFile(`${dir}/app.css`)]);
  } catch {
    return undefined;
  }
  const version = createHash('sha256').update(js).update(css).digest('hex').slice(0, 12);
  const shell =
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    '<meta name="color-scheme" content="light dark">\n<title>wf</title>\n' +
    '<link rel="icon" href="/ui/favicon.svg" type="image/svg+xml">\n' +
    `<link rel="stylesheet" href="/ui/app.css?v=${version}">\n` +
    `<script type="module" src="/ui/app.js?v=${version}"></script>\n` +
    '</head>\n<body>\n<div id="root"></div>\n' +
    '<noscript>The wf web UI needs JavaScript. The HTTP API is under /api/v1 (docs/http-api.md).</noscript>\n' +
    '</body>\n</html>\n';
  return {
    shell: asset(Buffer.from(shell), 'text/html; charset=utf-8'),
    version,
    files: new Map([
      ['/ui/app.js', asset(js, 'text/javascript; charset=utf-8')],
      ['/ui/app.css', asset(css, 'text/css; charset=utf-8')],
      ['/ui/favicon.svg', asset(Buffer.from(FAVICON), 'image/svg+xml')],
    ]),
  };
}

const NOT_BUILT =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>wf</title></head><body>' +
  '<p>The wf web UI is not built into this installation (dist/ui-assets is missing). ' +
  'Run <code>npm run build</code> in a checkout of wf. The HTTP API works: /api/v1 (docs/http-api.md).</p>' +
  '</body></html>\n';

/**
 * The UI over the files in `dir` (default: the package's dist/ui-assets), read on the first request
 * and kept in memory with their gzip.
 */
export function createWebUi(dir = DEFAULT_UI_ASSETS_DIR): WebUi {
  let loading: Promise<Loaded | undefined> | undefined;
  return {
    handles: (path) => isPage(path) || path.startsWith('/ui/'),
    async serve(req, res, path, query) {
      loading ??= load(dir);
      const loaded = await loading;
      if (!loaded) {
        // Not kept: a build made while the server runs is picked up by the next request.
        loading = undefined;
        res.writeHead(isPage(path) ? 503 : 404, {
          ...SECURITY_HEADERS,
          'Content-Type': 'text/html; charset=utf-8',
          'Cache-Control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : NOT_BUILT);
        return;
      }
      const file = isPage(path) ? loaded.shell : loaded.files.get(path);
      if (!file) {
        res.writeHead(404, {
          ...SECURITY_HEADERS,
          'Content-Type': 'text/plain; charset=utf-8',
          'Cache-Control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : `no file ${path} in the web UI\n`);
        return;
      }
      // The shell is always revalidated (it names the current bundle); a bundle asked for by its
      // version is immutable, any other request of it revalidates by ETag.
      const cache =
        file === loaded.shell
          ? 'no-cache'
          : query.get('v') === loaded.version
            ? 'public, max-age=31536000, immutable'
            : 'no-cache';
      const headers: Record<string, string> = {
        ...SECURITY_HEADERS,
        'Content-Type': file.type,
        'Cache-Control': cache,
        ETag: file.etag,
        Vary: 'Accept-Encoding',
      };
      if (req.headers['if-none-match'] === file.etag) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      const body = gzip ? file.gzip : file.body;
      if (gzip) headers['Content-Encoding'] = 'gzip';
      headers['Content-Length'] = String(body.length);
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  };
}
