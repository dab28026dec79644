/**
 * Helpers of the browser tests: Debian's Chromium driven headless through playwright-core (never a
 * browser download). Without Chromium the tests are skipped with one line, unless
 * WF_REQUIRE_BROWSER=1 (set by .ci/run), which turns its absence into a failure.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import CHROMIUM_FLAGS from '../../scripts/chromium-flags.json' with { type: 'json' };
import { root } from '../acceptance/support.js';

export const CHROMIUM = process.env.WF_CHROMIUM ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
export const browserRequired = process.env.WF_REQUIRE_BROWSER === '1';
/** Screenshots of the browser tests (gitignored). */
export const SCREENSHOTS = path.join(root, 'test-results', 'web-ui');

/** Chromium's flags for headless runs here, shared with bench/webui.js. */
const ARGS: string[] = CHROMIUM_FLAGS;

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions of every page, as text. */
  errors: string[];
  /** Messages of every dialog (alert, confirm...) a page opened; each is dismissed. */
  dialogs: string[];
  close(): Promise<void>;
}

/** Chromium with a fresh profile, at 1280x720, one page open, watching for errors and dialogs. */
export async function openBrowser(): Promise<Browser> {
  const profile = await mkdtemp(path.join(tmpdir(), 'wf-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 720 },
    acceptDownloads: true,
  });
  const errors: string[] = [];
  const dialogs: string[] = [];
  const watch = (p: Page) => {
    p.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    p.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
    p.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  };
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page);
  await mkdir(SCREENSHOTS, { recursive: true });
  return {
    context,
    page,
    errors,
    dialogs,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
