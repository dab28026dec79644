// The web UI (docs/web-ui.md) measured in Debian's Chromium, headless, through playwright-core,
// against the real `wf dev` (spawned) on a copy of bench/fixtures/steps:
//
//   size of the bundle as served (gzip, as wf dev sends it to a browser that accepts it)
//   first paint of the runs list with 10,000 runs in the store (navigation -> 50 rows drawn)
//   event appended -> shown in an open page (the event's eventTime -> its row drawn)
//
// Without Chromium (/usr/bin/chromium, or WF_CHROMIUM) only the size is measured, with a line on stderr.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { copyFixture, seedClosedRuns, startDev } from './dev.js';
import { median, now, percentile, ROOT, removeDir, row } from './lib.js';

const CHROMIUM = process.env.WF_CHROMIUM ?? '/usr/bin/chromium';
/** The flags the browser tests launch it with (test/support/browser.ts). */
const CHROMIUM_FLAGS = createRequire(import.meta.url)('../scripts/chromium-flags.json');
const RUNS = 10_000;
const LOADS = 5;
const LIVE_RUNS = 20;

function bundleRows() {
  const dir = join(ROOT, 'dist', 'ui-assets');
  const files = ['app.js', 'app.css'].map((f) => readFileSync(join(dir, f)));
  const raw = files.reduce((n, b) => n + b.length, 0);
  const gz = files.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0);
  return [
    row('web UI bundle as served (app.js + app.css, gzip)', gz / 1024, 'KB', {
      id: 'webui-bundle-gzip',
      detail: { rawKB: raw / 1024, target: 'under 300 KB gzipped' },
    }),
  ];
}

export const webUiCases = {
  async webui() {
    const rows = bundleRows();
    if (!existsSync(CHROMIUM)) {
      process.stderr.write(`webui: no Chromium at ${CHROMIUM}; measured the bundle size only\n`);
      return rows;
    }
    const { chromium } = await import('playwright-core');
    const dir = await copyFixture();
    let dev;
    let browser;
    try {
      await seedClosedRuns(dir, RUNS, { spaced: true });
      dev = await startDev(dir);
      await dev.healthy();
      await dev.line(/^Press Ctrl\+C to stop/);
      // launch() starts from a fresh temporary profile of its own.
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_FLAGS,
      });
      const viewport = { width: 1280, height: 720 };
      const page = await (await browser.newContext({ viewport })).newPage();

      // First paint: from the navigation's start to the frame in which the first page of rows is drawn.
      const paint = async (p) => {
        await p.goto(`${dev.url}/`, { waitUntil: 'commit' });
        const handle = await p.waitForFunction(
          () => document.querySelectorAll('[data-testid="run-row"]').length >= 50 && performance.now(),
          undefined,
          { polling: 'raf', timeout: 60_000 },
        );
        return handle.jsonValue();
      };
      // Cold: a fresh incognito context each time (empty cache); warm: the same page loaded again.
      const cold = [];
      for (let i = 0; i < LOADS; i++) {
        const fresh = await browser.newContext({ viewport });
        try {
          cold.push(await paint(await fresh.newPage()));
        } finally {
          await fresh.close();
        }
      }
      const warm = [];
      await paint(page);
      for (let i = 0; i < LOADS; i++) warm.push(await paint(page));
      const listMs = [];
      for (let i = 0; i < 10; i++) {
        const t = now();
        const res = await fetch(`${dev.url}/api/v1/workflows?pageSize=50`);
        await res.json();
        listMs.push(now() - t);
      }
      rows.push(
        row(
          `web UI: first paint of the runs list, ${RUNS.toLocaleString('en-US')} runs in the store (cold cache, median of ${LOADS})`,
          median(cold),
          'ms',
          {
            id: 'webui-first-paint',
            n: RUNS,
            detail: {
              coldLoads: cold,
              warmLoads: warm,
              warmMedianMs: median(warm),
              listPageOf50MedianMs: median(listMs),
              how: 'navigation start -> the animation frame in which 50 rows exist (performance.now in the page)',
            },
          },
        ),
      );

      // Live: a run open in the page, then signalled; each event's eventTime -> its row drawn.
      const latencies = [];
      for (let i = 0; i < LIVE_RUNS; i++) {
        const workflowId = `live-${i}`;
        const started = await fetch(`${dev.url}/api/v1/workflows`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ workflowType: 'waiter', workflowId }),
        });
        const { runId } = await started.json();
        await page.goto(`${dev.url}/runs/${workflowId}/${runId}`);
        await page.getByRole('tab', { name: /events/ }).click();
        await page.waitForFunction(() => document.querySelectorAll('[data-testid="event-row"]').length >= 1);
        await page.waitForFunction(() => document.querySelector('.live')?.textContent === 'live');
        await page.evaluate(() => {
          const shown = [];
          window.__shown = shown;
          const seen = new Set();
          new MutationObserver(() => {
            requestAnimationFrame(() => {
              const at = performance.timeOrigin + performance.now();
              for (const tr of document.querySelectorAll('[data-testid="event-row"]')) {
                const id = tr.querySelector('td')?.textContent;
                if (id && !seen.has(id)) {
                  seen.add(id);
                  shown.push({ id: Number(id), at });
                }
              }
            });
          }).observe(document.body, { childList: true, subtree: true });
        });
        await fetch(`${dev.url}/api/v1/workflows/${workflowId}/signal/release`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        const shown = await (
          await page.waitForFunction(
            () => window.__shown.filter((s) => s.id > 1).length >= 2 && window.__shown,
          )
        ).jsonValue();
        const events = (await (await fetch(`${dev.url}/api/v1/workflows/${workflowId}/history`)).json())
          .events;
        for (const s of shown) {
          const e = events.find((ev) => ev.eventId === s.id);
          if (e && s.id > 1) latencies.push(s.at - Date.parse(e.eventTime));
        }
      }
      rows.push(
        row('web UI: event appended -> shown in an open page (p50)', median(latencies), 'ms', {
          id: 'webui-event-shown',
          detail: {
            p90: percentile(latencies, 90),
            samples: latencies.length,
            how: "the event's eventTime (ms) -> the animation frame after its row entered the events table",
          },
        }),
      );
      return rows;
    } finally {
      await browser?.close();
      await dev?.stop();
      await removeDir(dir);
    }
  },
};
