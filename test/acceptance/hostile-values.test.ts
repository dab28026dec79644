/**
 * Hostile values against the built `wf dev`, as an API user or a workflow author meets them:
 * payloads the store must keep byte for byte ("__proto__" keys, lone surrogates, -0, extreme
 * numbers), payloads nested too deeply, durations too long for a Date, IDs that are not well-formed
 * Unicode, and characters that reorder the text of a terminal.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awkwardJson } from '../support/json-arbitraries.js';
import {
  built,
  type DevServer,
  jsonLines,
  killAll,
  makeProject,
  rawRequest,
  removeTempDirs,
  spawnDev,
  wf,
} from './support.js';

const WORKFLOWS = `
import { CancellationScope, condition, defineSignal, defineUpdate, proxyActivities, setHandler, sleep } from 'wfkit/workflow';
import type * as activities from '../activities/index.js';

const { echo } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });

export const put = defineSignal<[unknown]>('put');
export const done = defineSignal('done');
export const swap = defineUpdate<unknown, [unknown]>('swap');

/** Keeps what it is given, passes it through an activity, returns it all. */
export async function keeper(...args: unknown[]): Promise<unknown> {
  const got: unknown[] = [];
  let finished = false;
  setHandler(put, (v) => {
    got.push(v);
  });
  setHandler(done, () => {
    finished = true;
  });
  setHandler(swap, (v) => v);
  await condition(() => finished);
  const echoed = await echo(args[0]);
  return { args, got, echoed };
}

export async function failsLoudly(): Promise<never> {
  throw new Error('bad \\u001b[2J\\u202e thing');
}

export async function returnsProto(): Promise<unknown> {
  return JSON.parse('{"__proto__":{"x":1},"constructor":{"prototype":{"y":2}}}');
}

export async function returnsDeep(depth: number): Promise<unknown> {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

export async function echoesDeep(depth: number): Promise<unknown> {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return await echo(v);
}

const { buildDeep } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } });

export async function activityReturnsDeep(depth: number): Promise<unknown> {
  return await buildDeep(depth);
}

export const wake = defineSignal<[number | string]>('wake');

/** Waits for a duration by signal, then waits that long in the way \`kind\` names. */
export async function waitsFor(kind: string): Promise<string> {
  let duration: number | string | undefined;
  setHandler(wake, (d) => {
    duration = d;
  });
  await condition(() => duration !== undefined);
  const d = duration as number | string;
  if (kind === 'sleep') await sleep(d);
  else if (kind === 'condition') await condition(() => false, d);
  else if (kind === 'withTimeout') await CancellationScope.withTimeout(d, () => sleep(10));
  else if (kind === 'activity') await proxyActivities<typeof activities>({ startToCloseTimeout: d }).echo(1);
  else if (kind === 'retryInterval')
    await proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute', retry: { initialInterval: d } }).echo(1);
  else if (kind === 'backoff')
    await proxyActivities<typeof activities>({
      startToCloseTimeout: '1 minute',
      retry: { backoffCoefficient: Number.POSITIVE_INFINITY },
    }).echo(1);
  return 'woke';
}

export async function sleepsAtStart(d: number | string): Promise<string> {
  await sleep(d);
  return 'woke';
}
`;

const ACTIVITIES = `
export async function echo(v: unknown): Promise<unknown> {
  return v;
}

export async function buildDeep(depth: number): Promise<unknown> {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}
`;

/** What JSON makes of a value: the standard every read-back is held to. */
const asJson = (v: unknown) => JSON.stringify(v);

interface Http {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: responses are read field by field
  body: any;
}

describe.skipIf(!built)('acceptance: hostile values (needs a build)', () => {
  let project: string;
  let dev: DevServer;
  let env: Record<string, string>;
  const post = (path: string, body: string): Promise<Http> =>
    rawRequest(dev.url, { method: 'POST', path: `/api/v1${path}`, body }) as Promise<Http>;
  const get = (path: string): Promise<Http> =>
    rawRequest(dev.url, { path: `/api/v1${path}` }) as Promise<Http>;
  const history = async (id: string) => {
    // Read the raw text: the test compares what the server sends, byte for byte.
    const res = await get(`/workflows/${encodeURIComponent(id)}/history`);
    expect(res.status).toBe(200);
    return res.body.events as Record<string, unknown>[];
  };

  beforeAll(async () => {
    project = await makeProject({
      'src/workflows/index.ts': WORKFLOWS,
      'src/activities/index.ts': ACTIVITIES,
    });
    dev = await spawnDev(project);
    env = { WF_ADDRESS: dev.url };
  });
  afterAll(async () => {
    await killAll();
    await removeTempDirs();
  });

  it('any JSON value as args, memo, signal, update, activity and workflow result reads back equal, across a restart', async () => {
    const kept = new Map<string, string>();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(awkwardJson, async (v) => {
        const id = `keep-${n++}`;
        const start = await post(
          '/workflows',
          `{"workflowType":"keeper","workflowId":"${id}","args":[${asJson(v)}],"memo":{"m":${asJson(v)}}}`,
        );
        expect(start.status).toBe(201);
        expect((await post(`/workflows/${id}/signal/put`, `{"args":[${asJson(v)}]}`)).status).toBe(200);
        const update = await post(`/workflows/${id}/update/swap`, `{"args":[${asJson(v)}]}`);
        expect(update.status).toBe(200);
        expect(asJson(update.body.result)).toBe(asJson(v));
        expect((await post(`/workflows/${id}/signal/done`, '{}')).status).toBe(200);
        const result = await get(`/workflows/${id}/result?wait=20s`);
        expect(result.status).toBe(200);
        expect(result.body.status).toBe('COMPLETED');
        expect(asJson(result.body.result)).toBe(asJson({ args: [v], got: [v], echoed: v }));
        const events = await history(id);
        expect(asJson(events[0]!.args)).toBe(asJson([v]));
        expect(asJson(events[0]!.memo)).toBe(asJson({ m: v }));
        kept.set(id, asJson(events));
      }),
      { numRuns: 25 },
    );
    // Acknowledged means kept: after a kill -9 every history reads back the same, and is not CORRUPT.
    await dev.kill('SIGKILL');
    dev = await spawnDev(project, { port: dev.port });
    for (const [id, text] of kept) expect(asJson(await history(id))).toBe(text);
    const list = jsonLines<{ status: string }>((await wf(['list', '-o', 'json'], env)).stdout);
    expect(list.filter((r) => r.status === 'CORRUPT')).toEqual([]);
  });

  it('a workflow returning "__proto__" and "constructor" keys completes, and wf result prints them back', async () => {
    const start = await post('/workflows', '{"workflowType":"returnsProto","workflowId":"proto"}');
    expect(start.status).toBe(201);
    const result = await wf(['result', '-w', 'proto', '-o', 'json'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"__proto__":{"x":1},"constructor":{"prototype":{"y":2}}}\n');
    // The CLI sends such input as written, too.
    const signalled = await wf(
      ['start', '--type', 'keeper', '-w', 'proto-in', '--input', '{"__proto__":{"polluted":true}}'],
      env,
    );
    expect(signalled.code).toBe(0);
    expect(asJson((await history('proto-in'))[0]!.args)).toBe('[{"__proto__":{"polluted":true}}]');
  });

  it('payloads nested too deeply are refused with 400 before anything is recorded', async () => {
    const deep = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
    const memo = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const memoStart = await post(
      '/workflows',
      `{"workflowType":"keeper","workflowId":"deep-memo","memo":${memo}}`,
    );
    expect(memoStart.status).toBe(400);
    expect(memoStart.body.error.message).toBe('"memo" nests deeper than 256 levels of arrays and objects');
    const argsStart = await post(
      '/workflows',
      `{"workflowType":"keeper","workflowId":"deep-args","args":${deep(300)}}`,
    );
    expect(argsStart.status).toBe(400);
    expect(argsStart.body.error.message).toBe(
      '"args" nests 300 levels of arrays and objects deep: the most is 256',
    );
    for (const id of ['deep-memo', 'deep-args']) expect((await get(`/workflows/${id}`)).status).toBe(404);

    expect((await post('/workflows', '{"workflowType":"keeper","workflowId":"deep-signal"}')).status).toBe(
      201,
    );
    const signal = await post('/workflows/deep-signal/signal/put', `{"args":${deep(5000)}}`);
    expect(signal.status).toBe(400);
    expect(signal.body.error.message).toBe('"args" nests deeper than 256 levels of arrays and objects');
    expect((await history('deep-signal')).map((e) => e.type)).toEqual(['WorkflowExecutionStarted']);
  });

  it('a workflow or activity result nested too deeply fails the workflow (or the activity) with the reason', async () => {
    const expected: Record<string, RegExp> = {
      returnsDeep:
        /the workflow's result nests (\d+ levels of arrays and objects deep: the most is 256|deeper than 256 levels)/,
      echoesDeep:
        /the arguments of activity echo nests 301 levels of arrays and objects deep: the most is 256/,
      activityReturnsDeep:
        /the activity's result nests (300 levels of arrays and objects deep: the most is 256|deeper than 256 levels)/,
    };
    for (const [type, depth] of [
      ['returnsDeep', 300],
      ['returnsDeep', 5000],
      ['echoesDeep', 300],
      ['activityReturnsDeep', 300],
      ['activityReturnsDeep', 5000],
    ] as const) {
      const id = `${type}-${depth}`;
      const start = await post(
        '/workflows',
        `{"workflowType":"${type}","workflowId":"${id}","args":[${depth}]}`,
      );
      expect(start.status).toBe(201);
      const result = await get(`/workflows/${id}/result?wait=20s`);
      expect(result.body.status).toBe('FAILED');
      expect(JSON.stringify(result.body.failure)).toMatch(expected[type]!);
    }
    expect(dev.output()).not.toMatch(/paused/);
  });

  it('a duration too long for a Date fails the workflow with a clear TypeError, never a 500 or a paused run; the signal is kept', async () => {
    const cases: [string, string][] = [
      ['sleep', '1e16'],
      ['sleep', '"1000000 years"'],
      ['condition', '1e16'],
      ['withTimeout', '"1000000 years"'],
      ['activity', '1e16'],
    ];
    for (const [kind, duration] of cases) {
      const id = `long-${kind}-${duration.replace(/\W/g, '')}`;
      expect(
        (await post('/workflows', `{"workflowType":"waitsFor","workflowId":"${id}","args":["${kind}"]}`))
          .status,
      ).toBe(201);
      const signal = await post(`/workflows/${id}/signal/wake`, `{"args":[${duration}]}`);
      expect(signal.status).toBe(200);
      const result = await get(`/workflows/${id}/result?wait=20s`);
      expect(result.body.status).toBe('FAILED');
      expect(result.body.failure.name).toBe('TypeError');
      expect(result.body.failure.message).toMatch(
        /is too long: .* is more than 100 years \(3155760000000 ms\), the longest duration wf accepts$/,
      );
      const types = (await history(id)).map((e) => e.type);
      expect(types).toContain('WorkflowSignaled');
      expect(types.at(-1)).toBe('WorkflowExecutionFailed');
    }
    // A long initial retry interval is fine: the default maximum interval (100 times it) stays within
    // 100 years. An infinite backoff coefficient is refused like a bad duration.
    for (const [kind, status] of [
      ['retryInterval', 'COMPLETED'],
      ['backoff', 'FAILED'],
    ] as const) {
      const id = `retry-${kind}`;
      expect(
        (await post('/workflows', `{"workflowType":"waitsFor","workflowId":"${id}","args":["${kind}"]}`))
          .status,
      ).toBe(201);
      expect((await post(`/workflows/${id}/signal/wake`, '{"args":["2 years"]}')).status).toBe(200);
      const result = await get(`/workflows/${id}/result?wait=20s`);
      expect(result.body.status).toBe(status);
      if (status === 'FAILED') {
        expect(result.body.failure.message).toBe(
          'retry.backoffCoefficient must be a finite number, got Infinity',
        );
      }
    }
    const atStart = await post(
      '/workflows',
      '{"workflowType":"sleepsAtStart","workflowId":"long-start","args":[1e16]}',
    );
    expect(atStart.status).toBe(201);
    const result = await get('/workflows/long-start/result?wait=20s');
    expect(result.body.failure.message).toMatch(/^sleep duration is too long/);
    // The CLI's own durations have the same ceiling.
    const cli = await wf(
      ['start', '--type', 'keeper', '-w', 'long-cli', '--run-timeout', '1000000 years'],
      env,
    );
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/is too long: "1000000 years" is more than 100 years/);
    const timeout = await post(
      '/workflows',
      '{"workflowType":"keeper","workflowId":"long-rt","runTimeoutMs":1e400}',
    );
    expect(timeout.status).toBe(400);
    expect(timeout.body.error.message).toBe(
      '"runTimeoutMs" must be a positive, finite number of milliseconds, got Infinity (not a finite number)',
    );
    expect(dev.output()).not.toMatch(/paused|Invalid time value/);
  });

  it('an ID that is not well-formed Unicode is refused with 400 and nothing is started', async () => {
    for (const body of [
      '{"workflowType":"keeper","workflowId":"x\\ud800y"}',
      '{"workflowType":"keeper","workflowId":"ok-id","signal":{"name":"\\udc00"}}',
    ]) {
      const res = await post('/workflows', body);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/is not well-formed Unicode \(it holds a lone surrogate/);
    }
    expect((await get('/workflows/ok-id')).status).toBe(404);
    const list = jsonLines<{ workflowId: string }>((await wf(['list', '-o', 'json'], env)).stdout);
    expect(
      list.some(
        (r) => /[\ud800-\udfff]/.test(r.workflowId) && !/[\ud800-\udbff][\udc00-\udfff]/.test(r.workflowId),
      ),
    ).toBe(false);
  });

  it('bidirectional overrides and C1 controls in IDs, names and payloads are shown escaped by wf list, describe, show, result and the dev server', async () => {
    const id = 'invoice-\u202egnp.exe\u2066';
    const hidden = /[\u0080-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/;
    const start = await post(
      '/workflows',
      JSON.stringify({ workflowType: 'keeper', workflowId: id, args: ['pay\u202e\u009b[2Jload'] }),
    );
    expect(start.status).toBe(201);
    await post(`/workflows/${encodeURIComponent(id)}/signal/put`, JSON.stringify({ args: ['sig\u2067nal'] }));
    await post(`/workflows/${encodeURIComponent(id)}/signal/done`, '{}');
    await dev.waitFor(/invoice-.*WorkflowExecutionCompleted/);
    const outs = await Promise.all([
      wf(['list'], env),
      wf(['describe', '-w', id], env),
      wf(['show', '-w', id], env),
      wf(['result', '-w', id], env),
      wf(['list', '-o', 'json'], env),
      wf(['show', '-w', id, '-o', 'json'], env),
      wf(['result', '-w', id, '-o', 'json'], env),
    ]);
    const [list, describeOut, show, result, listJson, showJson, resultJson] = outs;
    for (const out of [list, describeOut]) expect(out!.stdout).toContain('invoice-\\u202egnp.exe\\u2066');
    expect(show!.stdout).toContain('pay\\u202e\\u009b[2Jload');
    expect(result!.stdout).toContain('sig\\u2067nal');
    for (const out of outs) {
      expect(out.code).toBe(0);
      expect(out.stdout).not.toMatch(hidden);
    }
    // JSON output escapes them too, and still parses to the very same values.
    expect(jsonLines<{ workflowId: string }>(listJson!.stdout).some((r) => r.workflowId === id)).toBe(true);
    expect(jsonLines<{ args?: unknown[] }>(showJson!.stdout)[0]!.args).toEqual(['pay\u202e\u009b[2Jload']);
    expect(JSON.parse(resultJson!.stdout)).toMatchObject({ got: ['sig\u2067nal'] });
    expect(dev.output()).toContain('invoice-\\u202egnp.exe\\u2066');
    expect(dev.output()).not.toMatch(hidden);
    // A failure message from workflow code reaches stderr escaped too.
    expect((await post('/workflows', '{"workflowType":"failsLoudly","workflowId":"loud"}')).status).toBe(201);
    const failed = await wf(['result', '-w', 'loud'], env);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('bad \\u001b[2J\\u202e thing');
    for (const raw of ['\u001b', '\u202e']) expect(failed.stderr).not.toContain(raw);
  });
});
