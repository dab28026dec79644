/**
 * The web UI in a real browser (Debian's Chromium, headless) against a real `wf dev` (the built
 * bin/run.js) on a throwaway project: one server and one browser for the whole file. Screenshots of
 * the list and of a run go to test-results/web-ui/.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  built,
  type DevServer,
  killAll,
  makeProject,
  removeTempDirs,
  spawnDev,
  until,
  wf,
} from '../acceptance/support.js';
import {
  type Browser,
  browserRequired,
  CHROMIUM,
  haveChromium,
  openBrowser,
  SCREENSHOTS,
} from '../support/browser.js';

const ACTIVITIES = `export async function greet(name: string): Promise<string> {
  return 'hello ' + name;
}
export async function flaky(): Promise<void> {
  throw new Error('the card was declined');
}
`;

const WORKFLOWS = `import { condition, defineQuery, defineSignal, proxyActivities, setHandler, sleep } from 'wfkit/workflow';
import type * as activities from '../activities/index.js';

const { greet, flaky } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 2, initialInterval: '10ms' },
});

export const go = defineSignal<[string]>('go');
export const seen = defineQuery<string[]>('seen');

export async function waiter(input: unknown): Promise<string[]> {
  const got: string[] = [];
  setHandler(go, (v) => {
    got.push(v);
  });
  setHandler(seen, () => got);
  await greet(JSON.stringify(input));
  await condition(() => got.length > 0);
  return got;
}

export async function failing(): Promise<void> {
  await flaky();
}

const slow = proxyActivities<typeof activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1 hour', maximumAttempts: 3 },
});

export async function retrying(): Promise<void> {
  await slow.flaky();
}

export async function sleeper(): Promise<string> {
  await sleep('1 hour');
  return 'woke up';
}

export async function pausable(): Promise<string> {
  const x = await greet('1');
  await condition(() => false);
  return x;
}
`;

/** expect.poll with room for a loaded machine (its default gives up after 1 s). */
const poll = <T>(read: () => T) => expect.poll(read, { timeout: 15_000 });

if (!haveChromium && !browserRequired) {
  console.warn(
    `test/browser/web-ui.test.ts: no Chromium at ${CHROMIUM}, skipping the browser tests (apt-get install chromium; WF_REQUIRE_BROWSER=1 makes this a failure)`,
  );
}

describe.runIf(browserRequired && !haveChromium)('the web UI in a browser', () => {
  it('needs Chromium (WF_REQUIRE_BROWSER=1)', () => {
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set WF_CHROMIUM)`);
  });
});

describe.skipIf(!built || !haveChromium)(
  'the web UI in a browser (needs `npm run build` and Chromium)',
  () => {
    let project: string;
    let dev: DevServer;
    let browser: Browser;
    const address = () => ({ WF_ADDRESS: dev.url });

    const start = async (type: string, id: string, input?: unknown) => {
      const args = ['start', '--type', type, '-w', id];
      if (input !== undefined) args.push('--input', JSON.stringify(input));
      const res = await wf(args, address());
      expect(res.code, res.stderr).toBe(0);
    };
    const historyTypes = async (id: string) =>
      (
        (await (await fetch(`${dev.url}/api/v1/workflows/${encodeURIComponent(id)}/history`)).json()) as {
          events: { type: string }[];
        }
      ).events.map((e) => e.type);

    beforeAll(async () => {
      project = await makeProject({
        'src/activities/index.ts': ACTIVITIES,
        'src/workflows/index.ts': WORKFLOWS,
      });
      [dev, browser] = await Promise.all([spawnDev(project), openBrowser()]);
      await start('waiter', 'order-1', { orderId: 1 });
      await start('failing', 'payment-1');
      await start('waiter', 'order-2', { orderId: 2 });
      await until(async () => (await historyTypes('order-2')).includes('ActivityTaskCompleted'), 15_000);
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await killAll();
      await removeTempDirs();
    });

    it('prints the UI address at start-up and serves the page with its security headers', async () => {
      expect(dev.output()).toContain(`ui:         ${dev.url}/`);
      const res = await fetch(`${dev.url}/runs/order-1`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    });

    it('lists the runs newest first and opens one with the keyboard', async () => {
      const { page } = browser;
      await page.goto(`${dev.url}/`);
      const rows = page.getByTestId('run-row');
      await poll(() => rows.count()).toBe(3);
      const ids = await page.locator('[data-testid="run-row"] td.id').allTextContents();
      expect(ids).toEqual(['order-2', 'payment-1', 'order-1']);
      await poll(() => rows.nth(1).locator('.status').textContent()).toBe('FAILED');
      await page.screenshot({ path: path.join(SCREENSHOTS, 'runs-list.png') });
      console.log(`screenshots: ${SCREENSHOTS}`);

      await page.keyboard.press('j');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/runs\/payment-1\/[\w-]+$/);
      await poll(() => page.getByTestId('workflow-id').textContent()).toBe('payment-1');
      // The failure with the activity it came from.
      await poll(() => page.getByTestId('failure').textContent()).toContain('failing activity: flaky');
      await poll(() => page.getByTestId('failure').textContent()).toContain('the card was declined');
      await page.keyboard.press('Escape');
      await page.waitForURL(`${dev.url}/`);

      // Filters: by status, and search by workflow ID prefix (server side).
      await page.getByLabel('status').selectOption('FAILED');
      await poll(() => page.locator('[data-testid="run-row"] td.id').allTextContents()).toEqual([
        'payment-1',
      ]);
      await page.getByLabel('status').selectOption('');
      await page.keyboard.press('/');
      await page.keyboard.type('order-');
      await page.keyboard.press('Enter');
      await poll(() => page.locator('[data-testid="run-row"] td.id').allTextContents()).toEqual([
        'order-2',
        'order-1',
      ]);
      // A list query in Temporal's syntax, ANDed with the search.
      await page.getByLabel('list query').fill('WorkflowType = "waiter" AND WorkflowId != "order-1"');
      await page.getByLabel('list query').press('Enter');
      await poll(() => page.locator('[data-testid="run-row"] td.id').allTextContents()).toEqual(['order-2']);
      expect(new URL(page.url()).searchParams.get('query')).toBe(
        'WorkflowType = "waiter" AND WorkflowId != "order-1"',
      );
    });

    it('sends a signal from the form and shows the event live, without reloading', async () => {
      const { page } = browser;
      await page.goto(`${dev.url}/runs/order-2`);
      await page.waitForURL(/\/runs\/order-2\/[\w-]+$/);
      await page.getByRole('tab', { name: /events/ }).click();
      await poll(() => page.getByTestId('event-row').count()).toBe(4);
      await page.evaluate(() => {
        (globalThis as unknown as { notReloaded: boolean }).notReloaded = true;
      });
      const form = page.getByTestId('signal-form');
      await form.getByLabel('signal name').fill('go');
      const editor = form.getByRole('textbox', { name: 'Arguments (JSON array)' });
      // The JSON is checked before anything is sent.
      await editor.fill('["from the browser"');
      await poll(() => form.getByRole('button', { name: 'Send signal' }).isDisabled()).toBe(true);
      await editor.fill('{"not": "an array"}');
      await poll(() => form.locator('.error').textContent()).toContain('JSON array');
      await editor.fill('["from the browser"]');
      await form.getByRole('button', { name: 'Send signal' }).click();

      const signaled = page.getByTestId('event-row').filter({ hasText: 'WorkflowSignaled' });
      await poll(() => signaled.textContent()).toContain('from the browser');
      await poll(() => page.getByTestId('run-status').textContent()).toBe('COMPLETED');
      expect(
        await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded),
      ).toBe(true);
      await page.getByRole('tab', { name: 'timeline' }).click();
      await page.screenshot({ path: path.join(SCREENSHOTS, 'run.png'), fullPage: true });
    });

    it("downloads a history as JSON Lines: wf export's bytes, and wf replay replays it", async () => {
      const { page } = browser;
      await page.goto(`${dev.url}/runs/order-2`);
      await poll(() => page.getByTestId('run-status').textContent()).toBe('COMPLETED');
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download history (JSONL)' }).click(),
      ]);
      const file = path.join(project, 'histories', 'order-2.jsonl');
      await download.saveAs(file);
      const exported = await wf(['export', '-w', 'order-2'], address());
      expect(await readFile(file, 'utf8')).toBe(exported.stdout);
      const replayed = await wf(['replay', file, '--project', project]);
      expect(replayed.code, replayed.stdout + replayed.stderr).toBe(0);
    });

    it("shows a paused run's divergence report with both source lines", async () => {
      const { page } = browser;
      await start('pausable', 'paused-1');
      await until(async () => (await historyTypes('paused-1')).includes('ActivityTaskCompleted'), 15_000);
      const file = path.join(project, 'src', 'workflows', 'index.ts');
      await writeFile(
        file,
        WORKFLOWS.replace("const x = await greet('1');", "await greet('0');\n  const x = await greet('1');"),
      );
      await dev.waitFor(/paused: paused-1/);
      await page.goto(`${dev.url}/runs/paused-1`);
      const report = page.getByTestId('paused-report');
      await poll(() => report.textContent()).toContain('history recorded');
      expect(await report.textContent()).toContain('code issued');
      // The code frames come a moment after the report.
      await poll(() => report.textContent()).toContain("await greet('0');");
      expect(await page.getByTestId('run-status').textContent()).toBe('PAUSED');
      await page.goto(`${dev.url}/?status=PAUSED`);
      await poll(() => page.locator('[data-testid="run-row"] td.id').allTextContents()).toEqual(['paused-1']);
      await writeFile(file, WORKFLOWS);
      await dev.waitFor(/paused-1 resumed/);
    });

    it('renders workflow IDs and payloads that hold markup as text, and opens no dialog', async () => {
      const { page, dialogs } = browser;
      const id = '<script>alert("id")</script><img src=x onerror=alert(1)>';
      const input = { html: '<img src=x onerror=alert(2)>', link: 'javascript:alert(3)' };
      await start('waiter', id, input);
      await start('waiter', 'javascript:alert(4)');
      await page.goto(`${dev.url}/`);
      const cell = page.locator('[data-testid="run-row"] td.id').filter({ hasText: '<script>' });
      await poll(() => cell.textContent()).toBe(id);
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.locator('script').count()).toBe(1);
      expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
      await cell.locator('a').click();
      await poll(() => page.getByTestId('workflow-id').textContent()).toBe(id);
      await poll(() => page.locator('.payload-full').first().textContent()).toContain(input.html);
      expect(await page.locator('img').count()).toBe(0);
      await page.goto(`${dev.url}/runs/${encodeURIComponent('javascript:alert(4)')}`);
      await poll(() => page.getByTestId('workflow-id').textContent()).toBe('javascript:alert(4)');
      expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
      expect(dialogs).toEqual([]);
    });

    it('starts a workflow from the page, runs a query, and fires a pending timer with time control', async () => {
      const { page } = browser;
      await page.goto(`${dev.url}/`);
      await page.getByRole('button', { name: 'Start workflow' }).click();
      await page.getByLabel('Type', { exact: true }).selectOption('waiter');
      await page.getByLabel('workflow ID to start').fill('started-in-the-page');
      await page.getByRole('textbox', { name: 'Arguments (JSON array)' }).fill('[{"from": "the page"}]');
      await page.getByRole('button', { name: 'Start', exact: true }).click();
      await page.waitForURL(/\/runs\/started-in-the-page\/[\w-]+$/);
      await poll(() => page.locator('.payload-full').first().textContent()).toContain('"from": "the page"');
      await page.getByRole('tab', { name: 'query' }).click();
      const query = page.getByTestId('query-form');
      await query.getByLabel('query name').fill('seen');
      await query.getByRole('button', { name: 'Run query' }).click();
      await poll(() => page.getByTestId('query-answer').textContent()).toBe('[]');

      await start('sleeper', 'sleeper-1');
      await page.goto(`${dev.url}/runs/sleeper-1`);
      await page.getByRole('button', { name: 'Fire now' }).click();
      await poll(() => page.getByTestId('run-status').textContent()).toBe('COMPLETED');
      await poll(() => page.locator('.payload-full').nth(1).textContent()).toBe('"woke up"');

      // The header's clock skips time forward: a timer due within the skip fires.
      await start('sleeper', 'sleeper-2');
      await page.goto(`${dev.url}/runs/sleeper-2`);
      await page.getByRole('button', { name: 'clock real time' }).click();
      await page.getByLabel('skip duration').fill('2h');
      await page.getByRole('button', { name: 'Skip time' }).click();
      await poll(() => page.locator('.clock > button').textContent()).toBe('clock +2h');
      await poll(() => page.getByTestId('run-status').textContent()).toBe('COMPLETED');
    });

    it('shows a pending activity with its attempt, last failure, next retry and source line', async () => {
      const { page } = browser;
      await start('retrying', 'retrying-1');
      await page.goto(`${dev.url}/runs/retrying-1`);
      const pending = page.locator('.card').filter({ hasText: 'Pending activities' });
      // Attempt 2 waits for its retry, an hour after the failure (on the server's clock, 2 h ahead by now).
      await poll(() => pending.textContent()).toMatch(/flaky\s*2\s*Error: the card was declined\s*in 59m/);
      await poll(() => pending.locator('.code-frame .hit').textContent()).toContain('await slow.flaky();');
    });

    it('copies a payload to the clipboard', async () => {
      const { page, context } = browser;
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: dev.url });
      await page.goto(`${dev.url}/runs/order-1`);
      const input = page.locator('.card').filter({ hasText: 'Input' }).first();
      await input.getByRole('button', { name: 'Copy' }).click();
      await poll(() => input.getByRole('button', { name: 'Copied' }).count()).toBe(1);
      const copied = await page.evaluate(() =>
        (
          globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
        ).navigator.clipboard.readText(),
      );
      expect(JSON.parse(copied)).toEqual([{ orderId: 1 }]);
    });

    it('terminates a run with a reason, after asking once more', async () => {
      const { page } = browser;
      await page.goto(`${dev.url}/runs/order-1`);
      await page.getByRole('tab', { name: 'terminate' }).click();
      await page.getByLabel('terminate reason').fill('stuck in review');
      await page.getByRole('button', { name: 'Terminate' }).click();
      await page.getByRole('button', { name: 'Really terminate?' }).click();
      await poll(() => page.getByTestId('run-status').textContent()).toBe('TERMINATED');
      await poll(() => page.locator('.card').filter({ hasText: 'terminated:' }).textContent()).toContain(
        'terminated: stuck in review',
      );
    });

    it('shows the schedules, triggers one now and pauses it', async () => {
      const { page } = browser;
      const created = await wf(
        ['schedule', 'create', '-s', 'nightly', '--type', 'sleeper', '-w', 'nightly', '--cron', '0 3 * * *'],
        address(),
      );
      expect(created.code, created.stderr).toBe(0);
      await page.goto(`${dev.url}/`);
      await page.getByRole('link', { name: 'Schedules' }).click();
      await page.waitForURL(`${dev.url}/schedules`);
      const row = page.getByTestId('schedule-row');
      await poll(() => row.textContent()).toContain('cron 0 3 * * *');
      await row.getByRole('button', { name: 'Trigger now' }).click();
      await poll(() => row.locator('a').count()).toBe(1);
      await row.getByRole('button', { name: 'Pause' }).click();
      await poll(() => row.locator('.status').textContent()).toBe('PAUSED');
      await page.screenshot({ path: path.join(SCREENSHOTS, 'schedules.png') });
      await row.locator('a').click();
      await page.waitForURL(/\/runs\/nightly-/);
      await poll(() => page.getByTestId('run-status').textContent()).toBe('RUNNING');
    });

    it('logged no console error on any page', () => {
      expect(browser.errors).toEqual([]);
    });

    it('says when the server is gone, and catches up once it is back', async () => {
      const { page } = browser;
      await page.goto(`${dev.url}/`);
      await poll(() => page.locator('.live').textContent()).toBe('live');
      const port = dev.port;
      await dev.kill('SIGKILL');
      await poll(() => page.getByRole('alert').textContent()).toContain('not answering');
      dev = await spawnDev(project, { port });
      await start('waiter', 'after-restart');
      await poll(() => page.getByRole('alert').count()).toBe(0);
      await poll(() => page.locator('[data-testid="run-row"] td.id').first().textContent()).toBe(
        'after-restart',
      );
    });
  },
);

describe.skipIf(!built || !haveChromium)(
  'the web UI of a token-protected wf serve (needs `npm run build` and Chromium)',
  () => {
    const TOKEN = 'a-long-enough-api-token-for-the-test';
    let browser: Browser;

    afterAll(async () => {
      await browser?.close();
      await killAll();
      await removeTempDirs();
    });

    it('asks for the token, keeps it for the tab, and then shows the runs', async () => {
      const project = await makeProject({
        'src/activities/index.ts': ACTIVITIES,
        'src/workflows/index.ts': WORKFLOWS,
      });
      let server: DevServer;
      [server, browser] = await Promise.all([
        spawnDev(project, {
          command: 'serve',
          args: ['--api-token', TOKEN, '--log-format', 'text'],
          ready: /^\s+recovered:/,
        }),
        openBrowser(),
      ]);
      const started = await wf(['start', '--type', 'waiter', '-w', 'behind-a-token'], {
        WF_ADDRESS: server.url,
        WF_API_TOKEN: TOKEN,
      });
      expect(started.code, started.stderr).toBe(0);
      const { page } = browser;
      await page.goto(`${server.url}/`);
      await page.getByLabel('API token').fill(TOKEN);
      await page.getByRole('button', { name: 'Unlock' }).click();
      await poll(() => page.locator('[data-testid="run-row"] td.id').allTextContents()).toEqual([
        'behind-a-token',
      ]);
      await poll(() => page.locator('.live').textContent()).toBe('live');
      await page.reload();
      await poll(() => page.locator('[data-testid="run-row"] td.id').allTextContents()).toEqual([
        'behind-a-token',
      ]);
      expect(browser.errors.filter((e) => !e.includes('401'))).toEqual([]);
    });
  },
);
