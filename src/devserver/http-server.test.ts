import { request as httpRequest } from 'node:http';
import { connect as netConnect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeWorkflowService } from '../../test/support/fake-service.js';
import { HttpWorkflowService } from '../client/http-transport.js';
import {
  InvalidArgumentError,
  QueryFailedError,
  UnknownWorkflowTypeError,
  WfError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowNotRunningError,
} from '../common/errors.js';
import type { EventNotice, TimeControl } from '../protocol/service.js';
import {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type HttpServer,
  startHttpServer,
} from './http-server.js';
import { PrometheusMetrics } from './prometheus-metrics.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are read field by field
  json: () => any;
}

/** A request with full control over the headers (undici and fetch refuse to forge Host). */
function raw(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, headers: options.headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

// biome-ignore lint/suspicious/noExplicitAny: the tests read the error's fields
async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('HTTP server and HTTP transport', () => {
  let service: FakeWorkflowService;
  let server: HttpServer;
  let client: HttpWorkflowService;

  beforeEach(async () => {
    service = new FakeWorkflowService();
    server = await startHttpServer({ service, port: 0, bodyLimitBytes: 4096, sseKeepAliveMs: 50 });
    client = new HttpWorkflowService({ address: server.url });
  });

  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('starts a workflow and describes, lists and reads its history', async () => {
    const started = await client.startWorkflow({
      workflowType: 'orderWorkflow',
      workflowId: 'order-1',
      args: [{ amount: 5 }],
      runTimeoutMs: 1000,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      memo: { team: 'a' },
    });
    expect(started).toEqual({ workflowId: 'order-1', runId: 'run-1', started: true });
    expect(service.calls[0]!.args[0]).toEqual({
      workflowType: 'orderWorkflow',
      workflowId: 'order-1',
      args: [{ amount: 5 }],
      runTimeoutMs: 1000,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      memo: { team: 'a' },
    });

    const description = await client.describe({ workflowId: 'order-1' });
    expect(description).toMatchObject({ workflowId: 'order-1', runId: 'run-1', status: 'RUNNING' });
    await client.describe({ workflowId: 'order-1', runId: 'run-1' });
    expect(service.calls.at(-1)!.args[0]).toEqual({ workflowId: 'order-1', runId: 'run-1' });

    const history = await client.history({ workflowId: 'order-1' });
    expect(history.map((e) => e.type)).toEqual(['WorkflowExecutionStarted']);
  });

  it('starts and, with ?wait, answers with the outcome of a run that closes within the wait', async () => {
    const body = JSON.stringify({ workflowType: 'greet', workflowId: 'quick' });
    const res = raw(server.port, 'POST', '/api/v1/workflows?wait=5s', { body });
    await expect.poll(() => service.runs.length).toBe(1);
    service.complete('quick', 'hello');
    expect(await res).toMatchObject({ status: 201 });
    expect((await res).json()).toEqual({
      workflowId: 'quick',
      runId: 'run-1',
      started: true,
      outcome: { status: 'COMPLETED', result: 'hello' },
    });
    // Still running when the wait ends: the start alone (the client then asks for the result).
    const slow = await raw(server.port, 'POST', '/api/v1/workflows?wait=20ms', {
      body: JSON.stringify({ workflowType: 'greet', workflowId: 'slow' }),
    });
    expect(slow.json()).toEqual({ workflowId: 'slow', runId: 'run-2', started: true });
    // The transport's startWorkflowAndWait is that call.
    const waiting = client.startWorkflowAndWait({ workflowType: 'greet', workflowId: 'third' });
    await expect.poll(() => service.runs.length).toBe(3);
    service.fail('third', { name: 'ApplicationFailure', message: 'no' });
    expect(await waiting).toMatchObject({ started: true, outcome: { status: 'FAILED' } });
    const bad = await raw(server.port, 'POST', '/api/v1/workflows?wait=soon', {
      body: JSON.stringify({ workflowType: 'greet', workflowId: 'fourth' }),
    });
    expect(bad.status).toBe(400);
    expect(service.runs).toHaveLength(3); // refused before starting anything
  });

  it('answers 201 for a new run and 200 when USE_EXISTING returns the open one', async () => {
    const body = JSON.stringify({ workflowType: 'greet', workflowId: 'g' });
    expect((await raw(server.port, 'POST', '/api/v1/workflows', { body })).status).toBe(201);
    const again = await raw(server.port, 'POST', '/api/v1/workflows', {
      body: JSON.stringify({
        workflowType: 'greet',
        workflowId: 'g',
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    });
    expect(again.status).toBe(200);
    expect(again.json()).toEqual({ workflowId: 'g', runId: 'run-1', started: false });
  });

  it('lists with filters and pages', async () => {
    for (let i = 0; i < 5; i++) await client.startWorkflow({ workflowType: 'greet', workflowId: `g-${i}` });
    await client.startWorkflow({ workflowType: 'orderWorkflow', workflowId: 'o' });
    service.complete('g-0', 'hi');

    const page1 = await client.list({ workflowType: 'greet', pageSize: 2 });
    expect(page1.runs.map((r) => r.workflowId)).toEqual(['g-4', 'g-3']);
    expect(page1.nextPageToken).toBeDefined();
    const page2 = await client.list({
      workflowType: 'greet',
      pageSize: 2,
      nextPageToken: page1.nextPageToken!,
    });
    expect(page2.runs.map((r) => r.workflowId)).toEqual(['g-2', 'g-1']);

    expect((await client.list({ status: 'COMPLETED' })).runs.map((r) => r.workflowId)).toEqual(['g-0']);
    expect((await client.list({ workflowId: 'o' })).runs).toHaveLength(1);
    const lower = await raw(server.port, 'GET', '/api/v1/workflows?status=completed');
    expect(lower.json().runs).toHaveLength(1);
    const bad = await raw(server.port, 'GET', '/api/v1/workflows?status=DONE');
    expect(bad.status).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_ARGUMENT');
    expect((await raw(server.port, 'GET', '/api/v1/workflows?pageSize=0')).status).toBe(400);
  });

  it('round-trips signals, queries and updates with their arguments', async () => {
    await client.startWorkflow({ workflowType: 'orderWorkflow', workflowId: 'o' });
    await client.signal({ workflowId: 'o' }, 'approve', ['ada', 2]);
    expect(await client.query({ workflowId: 'o' }, 'state', [])).toEqual({ approve: ['ada', 2] });
    expect(await client.query({ workflowId: 'o' }, 'echo', [1, { a: null }])).toEqual([1, { a: null }]);
    expect(await client.query({ workflowId: 'o' }, 'nothing', [])).toBeUndefined();
    expect(await client.update({ workflowId: 'o' }, 'setDiscount', [10], 'u-1')).toEqual({
      updateName: 'setDiscount',
      args: [10],
      updateId: 'u-1',
    });
    expect(await client.update({ workflowId: 'o' }, 'setDiscount', [])).toMatchObject({
      updateId: 'generated',
    });
  });

  it('encodes signal, query and update names', async () => {
    await client.startWorkflow({ workflowType: 'orderWorkflow', workflowId: 'o' });
    await client.signal({ workflowId: 'o' }, 'a/b ?c', []);
    expect(service.calls.at(-1)!.args[1]).toBe('a/b ?c');
  });

  it('cancels and terminates, and result() long-polls until the run closes', async () => {
    await client.startWorkflow({ workflowType: 'greet', workflowId: 'c' });
    await client.startWorkflow({ workflowType: 'greet', workflowId: 't' });
    await client.startWorkflow({ workflowType: 'greet', workflowId: 'r' });

    await client.cancel({ workflowId: 'c' }, 'no longer needed');
    expect(service.calls.at(-1)).toEqual({
      method: 'cancel',
      args: [{ workflowId: 'c' }, 'no longer needed'],
    });
    expect(await client.result({ workflowId: 'c' })).toEqual({ status: 'CANCELED' });

    await client.terminate({ workflowId: 't' }, 'stuck');
    expect(await client.result({ workflowId: 't' })).toEqual({ status: 'TERMINATED', reason: 'stuck' });

    const pending = client.result({ workflowId: 'r' });
    await new Promise((r) => setTimeout(r, 50));
    service.complete('r', { ok: true });
    expect(await pending).toEqual({ status: 'COMPLETED', result: { ok: true } });
  });

  it('answers 202 RUNNING when the wait runs out, so the client polls again', async () => {
    await client.startWorkflow({ workflowType: 'greet', workflowId: 'slow' });
    const res = await raw(server.port, 'GET', '/api/v1/workflows/slow/result?wait=50ms');
    expect(res.status).toBe(202);
    expect(res.json()).toEqual({ status: 'RUNNING' });
    const bad = await raw(server.port, 'GET', '/api/v1/workflows/slow/result?wait=soon');
    expect(bad.status).toBe(400);
    expect(bad.json().error.message).toMatch(/wait must be a duration/);
  });

  it('follows continue-as-new unless told not to', async () => {
    await client.startWorkflow({ workflowType: 'greet', workflowId: 'can' });
    const next = service.continueAsNew('can');
    service.complete('can', 'done');
    expect(await client.result({ workflowId: 'can', runId: 'run-1' })).toEqual({
      status: 'COMPLETED',
      result: 'done',
    });
    expect(await client.result({ workflowId: 'can', runId: 'run-1', followRuns: false })).toEqual({
      status: 'CONTINUED_AS_NEW',
      newRunId: next,
    });
  });

  it('gives up a result wait after waitTimeoutMs', async () => {
    await client.startWorkflow({ workflowType: 'greet', workflowId: 'never' });
    const err = await rejection(client.result({ workflowId: 'never', waitTimeoutMs: 100 }));
    expect(err).toBeInstanceOf(WfError);
    expect(err.message).toMatch(/did not close within 100 ms/);
  });

  it('brings errors back as the same WfError subclasses, fields included', async () => {
    await client.startWorkflow({ workflowType: 'orderWorkflow', workflowId: 'o' });

    const already = await rejection(client.startWorkflow({ workflowType: 'orderWorkflow', workflowId: 'o' }));
    expect(already).toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    expect(already).toMatchObject({ code: 'ALREADY_STARTED', workflowId: 'o', runId: 'run-1' });
    expect(already.message).toBe('workflow "o" is already running (run run-1)');

    const unknown = await rejection(client.startWorkflow({ workflowType: 'nope', workflowId: 'x' }));
    expect(unknown).toBeInstanceOf(UnknownWorkflowTypeError);
    expect(unknown.known).toEqual(['orderWorkflow', 'greet']);

    const missing = await rejection(client.describe({ workflowId: 'ghost' }));
    expect(missing).toBeInstanceOf(WorkflowNotFoundError);
    expect(missing).toMatchObject({ workflowId: 'ghost', message: expect.stringContaining('wf list') });

    const query = await rejection(client.query({ workflowId: 'o' }, 'nope', []));
    expect(query).toBeInstanceOf(QueryFailedError);

    const rejected = await rejection(client.update({ workflowId: 'o' }, 'reject', []));
    expect(rejected).toBeInstanceOf(WfError);
    expect(rejected.code).toBe('UPDATE_REJECTED');
    expect(rejected.message).toMatch(/amount must be positive/);

    const invalid = await rejection(client.update({ workflowId: 'o' }, 'bad', []));
    expect(invalid).toBeInstanceOf(InvalidArgumentError);

    service.complete('o', 1);
    const notRunning = await rejection(client.signal({ workflowId: 'o' }, 's', []));
    expect(notRunning).toBeInstanceOf(WorkflowNotRunningError);
    expect(notRunning).toMatchObject({ status: 'COMPLETED', runId: 'run-1' });
  });

  it('maps codes to HTTP statuses', async () => {
    await client.startWorkflow({ workflowType: 'orderWorkflow', workflowId: 'o' });
    const post = (path: string, body: unknown = {}) =>
      raw(server.port, 'POST', path, {
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    expect((await raw(server.port, 'GET', '/api/v1/workflows/ghost')).status).toBe(404);
    expect((await post('/api/v1/workflows', { workflowType: 'orderWorkflow', workflowId: 'o' })).status).toBe(
      409,
    );
    expect((await post('/api/v1/workflows', { workflowType: 'zzz', workflowId: 'z' })).status).toBe(400);
    expect((await post('/api/v1/workflows/o/query/nope')).status).toBe(400);
    expect((await post('/api/v1/workflows/o/update/reject')).status).toBe(422);
    service.failNext = new WfError('UNAVAILABLE', 'store is closing');
    expect((await raw(server.port, 'GET', '/api/v1/workflows')).status).toBe(503);
    service.failNext = new WfError('CORRUPT', 'corrupt history x.jsonl:3');
    const corrupt = await raw(server.port, 'GET', '/api/v1/workflows');
    expect(corrupt.status).toBe(409);
    expect(corrupt.json().error.code).toBe('CORRUPT');
    await post('/api/v1/workflows/o/terminate');
    expect((await post('/api/v1/workflows/o/signal/s')).status).toBe(409);
  });

  it('answers 500 with a report-this-bug message for errors that are not WfErrors', async () => {
    const seen: unknown[] = [];
    const s2 = await startHttpServer({ service, port: 0, onInternalError: (e) => seen.push(e) });
    try {
      service.failNext = new TypeError('x is undefined');
      const res = await raw(s2.port, 'GET', '/api/v1/workflows');
      expect(res.status).toBe(500);
      expect(res.json().error).toEqual({
        code: 'INTERNAL',
        message: expect.stringMatching(/x is undefined.*bug in wf.*report/),
      });
      expect(seen).toHaveLength(1);
    } finally {
      await s2.close();
    }
  });

  it('validates request bodies', async () => {
    const post = (path: string, body: string) => raw(server.port, 'POST', path, { body });
    const noType = await post('/api/v1/workflows', '{"workflowId":"x"}');
    expect(noType.status).toBe(400);
    expect(noType.json().error.message).toMatch(/workflowType/);
    expect(
      (await post('/api/v1/workflows', '{"workflowType":"greet","workflowId":"x","args":3}')).status,
    ).toBe(400);
    expect((await post('/api/v1/workflows', '[1]')).status).toBe(400);
    expect(
      (
        await post(
          '/api/v1/workflows',
          '{"workflowType":"greet","workflowId":"x","workflowIdReusePolicy":"NOPE"}',
        )
      ).status,
    ).toBe(400);
    expect(
      (await post('/api/v1/workflows', '{"workflowType":"greet","workflowId":"x","runTimeoutMs":-1}')).status,
    ).toBe(400);
  });

  it('rejects malformed JSON with 400 and the parser message', async () => {
    const res = await raw(server.port, 'POST', '/api/v1/workflows', { body: '{"workflowType": ' });
    expect(res.status).toBe(400);
    expect(res.json().error.code).toBe('INVALID_ARGUMENT');
    expect(res.json().error.message).toMatch(/^request body is not valid JSON: .+/);
  });

  it('refuses a "__proto__" field of a body as an unknown field, and keeps "__proto__" keys of payloads as data', async () => {
    const res = await raw(server.port, 'POST', '/api/v1/workflows', {
      body: '{"workflowType":"greet","workflowId":"p","__proto__":{"polluted":true}}',
    });
    expect(res.status).toBe(400);
    expect(res.json().error.message).toMatch(/unknown field "__proto__"/);
    // A payload is data: its "__proto__" key is an own property, passed on as written.
    const ok = await raw(server.port, 'POST', '/api/v1/workflows', {
      body: '{"workflowType":"greet","workflowId":"p","args":[{"__proto__":{"polluted":true}}],"memo":{"constructor":{"prototype":{"polluted":true}}}}',
    });
    expect(ok.status).toBe(201);
    const start = service.calls.at(-1)!.args[0] as { args: unknown[]; memo: unknown };
    expect(JSON.stringify(start.args)).toBe('[{"__proto__":{"polluted":true}}]');
    expect(JSON.stringify(start.memo)).toBe('{"constructor":{"prototype":{"polluted":true}}}');
    expect(Object.getPrototypeOf(start.args[0])).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('checks every field of a start body: types, ranges, nesting, Unicode, unknown fields', async () => {
    const roomy = await startHttpServer({ service, port: 0 });
    const start = (fields: Record<string, unknown> | string) =>
      raw(roomy.port, 'POST', '/api/v1/workflows', {
        body:
          typeof fields === 'string'
            ? fields
            : JSON.stringify({ workflowType: 'greet', workflowId: 'v', ...fields }),
      });
    const refusal = async (fields: Record<string, unknown> | string) => {
      const res = await start(fields);
      expect(res.status).toBe(400);
      expect(res.json().error.code).toBe('INVALID_ARGUMENT');
      return res.json().error.message as string;
    };
    const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    expect(await refusal(`{"workflowType":"greet","workflowId":"v","memo":${deep(5000)}}`)).toBe(
      '"memo" nests deeper than 256 levels of arrays and objects',
    );
    expect(await refusal(`{"workflowType":"greet","workflowId":"v","memo":${deep(300)}}`)).toBe(
      '"memo" nests 300 levels of arrays and objects deep: the most is 256',
    );
    expect(await refusal(`{"workflowType":"greet","workflowId":"v","args":[${deep(5000)}]}`)).toMatch(
      /^"args" nests deeper than 256/,
    );
    expect(await refusal('{"workflowType":"greet","workflowId":"v","runTimeoutMs":1e400}')).toBe(
      '"runTimeoutMs" must be a positive, finite number of milliseconds, got Infinity (not a finite number)',
    );
    expect(await refusal({ runTimeoutMs: '5s' })).toMatch(/"runTimeoutMs" must be a positive, finite number/);
    expect(await refusal({ runTimeoutMs: 1e16 })).toMatch(
      /the longest duration wf accepts is .* \(100 years\)/,
    );
    expect(await refusal({ runTimeout: 5000 })).toMatch(
      /unknown field "runTimeout": the fields are "workflowType"/,
    );
    expect(await refusal({ workflowType: 7 })).toBe('"workflowType" must be a non-empty string, got 7');
    expect(await refusal({ workflowId: 'x'.repeat(1001) })).toMatch(/"workflowId" is 1001 characters long/);
    expect(await refusal({ workflowId: 'a\ud800b' })).toMatch(
      /"workflowId" "a\\ud800b" is not well-formed Unicode/,
    );
    expect(await refusal({ memo: [1] })).toBe('"memo" must be a JSON object, got an array');
    expect(await refusal({ signal: { name: 's', args: [], extra: 1 } })).toMatch(/unknown field "extra"/);
    expect(await refusal({ signal: { name: '\udc00' } })).toMatch(/"signal.name" .* not well-formed Unicode/);
    expect(await refusal({ workflowIdConflictPolicy: 'nope' })).toMatch(/must be one of FAIL/);
    expect(await refusal({ searchAttributes: [1] })).toBe(
      '"searchAttributes" must be an object of search attribute values, e.g. {"CustomerId": ["c-1"]}',
    );
    expect(await refusal({ searchAttributes: { '1x': ['a'] } })).toBe(
      '"searchAttributes": "1x" is not a search attribute name (letters, digits and _, not starting with a digit, at most 64)',
    );
    expect(await refusal({ searchAttributes: { Region: [null] } })).toBe(
      '"searchAttributes".Region: null is not a string, finite number or boolean',
    );
    expect(service.calls.filter((c) => c.method === 'startWorkflow')).toHaveLength(0);
    await roomy.close();
  });

  it('the client refuses IDs and names that are not well-formed Unicode before sending anything', async () => {
    const calls = service.calls.length;
    for (const attempt of [
      () => client.describe({ workflowId: 'a\ud800' }),
      () => client.describe({ workflowId: 'a', runId: '\udc00' }),
      () => client.signal({ workflowId: 'a' }, 'go\ud83d', []),
      () => client.startWorkflow({ workflowType: 'greet', workflowId: 'x\ud800y' }),
    ]) {
      const error = await rejection(attempt());
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.message).toMatch(/is not well-formed Unicode \(it holds a lone surrogate/);
    }
    expect(service.calls.length).toBe(calls);
  });

  it('checks the bodies, names and IDs of signals, queries, updates, cancels and terminates', async () => {
    await client.startWorkflow({ workflowType: 'orderWorkflow', workflowId: 'o' });
    const calls = service.calls.length;
    const post = async (path: string, body: string) => {
      const res = await raw(server.port, 'POST', `/api/v1/workflows/${path}`, { body });
      expect([path, res.status]).toEqual([path, 400]);
      return res.json().error.message as string;
    };
    expect(await post('o/signal/go', '{"args":[1],"requestId":5}')).toBe(
      '"requestId" must be a non-empty string, got 5',
    );
    expect(await post('o/signal/go', '{"args":[1],"requestID":"r"}')).toMatch(/unknown field "requestID"/);
    expect(await post('o/signal/go', `{"args":[${'['.repeat(300)}${']'.repeat(300)}]}`)).toMatch(
      /^"args" nests 301 levels/,
    );
    expect(await post('o/signal/go', '{"args":[],"requestId":"\\ud800"}')).toMatch(
      /"requestId" .* not well-formed Unicode/,
    );
    expect(await post('o/query/q', '{"args":{}}')).toMatch(/"args" must be a JSON array/);
    expect(await post('o/update/u', '{"args":[],"updateId":""}')).toMatch(
      /"updateId" must be a non-empty string/,
    );
    expect(await post('o/cancel', '{"reason":5}')).toBe('"reason" must be a string, got 5');
    expect(await post('o/terminate', '{"why":"x"}')).toMatch(/unknown field "why"/);
    expect(await post(`o/signal/${'n'.repeat(1001)}`, '{}')).toMatch(
      /the signal name is 1001 characters long/,
    );
    expect(service.calls.length).toBe(calls);
  });

  it('answers 413 for bodies over the limit, and the transport reports an InvalidArgumentError', async () => {
    const big = JSON.stringify({ workflowType: 'greet', workflowId: 'b', args: ['x'.repeat(5000)] });
    const res = await raw(server.port, 'POST', '/api/v1/workflows', { body: big });
    expect(res.status).toBe(413);
    expect(res.json().error).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: expect.stringContaining('4096'),
    });

    const err = await rejection(
      client.startWorkflow({ workflowType: 'greet', workflowId: 'b', args: ['x'.repeat(5000)] }),
    );
    expect(err).toBeInstanceOf(WfError);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/larger than the limit/);
    // The connection pool is still usable.
    expect((await client.list()).runs).toEqual([]);
  });

  it('answers 413 for a chunked body that grows past the limit', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: server.port, method: 'POST', path: '/api/v1/workflows', agent: false },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(1000));
      req.end();
    });
    expect(res).toBe(413);
  });

  it('answers 404 for unknown routes and 405 with Allow for wrong methods', async () => {
    const notFound = await raw(server.port, 'GET', '/api/v1/nothing');
    expect(notFound.status).toBe(404);
    expect(notFound.json().error.code).toBe('ROUTE_NOT_FOUND');
    expect((await raw(server.port, 'GET', '/nothing')).status).toBe(404);
    expect((await raw(server.port, 'GET', '/api/v1/workflows/x/bogus')).status).toBe(404);
    const wrong = await raw(server.port, 'DELETE', '/api/v1/workflows/x');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET');
    expect((await raw(server.port, 'GET', '/api/v1/workflows/x/cancel')).status).toBe(405);
    expect((await raw(server.port, 'PUT', '/api/v1/workflows')).headers.allow).toBe('GET, POST');
  });

  it('refuses a Host header that is not a loopback name of this port', async () => {
    for (const host of [
      'evil.example',
      `evil.example:${server.port}`,
      'localhost:1',
      `10.0.0.1:${server.port}`,
    ]) {
      const res = await raw(server.port, 'GET', '/api/v1/health', { headers: { host } });
      expect(res.status, host).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
    for (const host of [
      `localhost:${server.port}`,
      `127.0.0.1:${server.port}`,
      `[::1]:${server.port}`,
      `LOCALHOST:${server.port}`,
    ]) {
      expect((await raw(server.port, 'GET', '/api/v1/health', { headers: { host } })).status, host).toBe(200);
    }
  });

  it('accepts extra host names from allowedHosts', async () => {
    const s2 = await startHttpServer({ service, port: 0, allowedHosts: ['devbox.local'] });
    try {
      expect(
        (await raw(s2.port, 'GET', '/api/v1/health', { headers: { host: `devbox.local:${s2.port}` } }))
          .status,
      ).toBe(200);
    } finally {
      await s2.close();
    }
  });

  it('refuses an Origin header that is not a loopback origin', async () => {
    for (const origin of ['https://evil.example', 'null', 'http://localhost.evil.example', 'file://']) {
      const res = await raw(server.port, 'POST', '/api/v1/workflows', {
        headers: { origin },
        body: JSON.stringify({ workflowType: 'greet', workflowId: 'csrf' }),
      });
      expect(res.status, origin).toBe(403);
    }
    expect(service.runs).toHaveLength(0);
    // Other apps on localhost are other origins too: a local web page may not drive the server.
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1:5173', 'http://[::1]:8080']) {
      expect((await raw(server.port, 'GET', '/api/v1/health', { headers: { origin } })).status, origin).toBe(
        403,
      );
    }
    for (const origin of [`http://localhost:${server.port}`, `http://127.0.0.1:${server.port}`]) {
      expect((await raw(server.port, 'GET', '/api/v1/health', { headers: { origin } })).status, origin).toBe(
        200,
      );
    }
  });

  it('refuses a browser POST that is not JSON, so a cross-origin "simple" request cannot slip through', async () => {
    const origin = `http://127.0.0.1:${server.port}`;
    const body = JSON.stringify({ workflowType: 'greet', workflowId: 'simple-post' });
    const plain = await raw(server.port, 'POST', '/api/v1/workflows', {
      headers: { origin, 'content-type': 'text/plain' },
      body,
    });
    expect(plain.status).toBe(415);
    expect(service.runs).toHaveLength(0);
    const json = await raw(server.port, 'POST', '/api/v1/workflows', {
      headers: { origin, 'content-type': 'application/json' },
      body,
    });
    expect(json.status).toBe(201);
  });

  it('round-trips workflow IDs with slashes, dots and other reserved characters', async () => {
    const ids = ['a/b', '..', '.', '../../etc/passwd', 'x/../y', 'with space?&#%', 'ünï/cødé'];
    for (const workflowId of ids) {
      await client.startWorkflow({ workflowType: 'greet', workflowId });
      expect((await client.describe({ workflowId })).workflowId).toBe(workflowId);
      await client.signal({ workflowId }, 'ping', [workflowId]);
      expect((await client.history({ workflowId })).at(-1)).toMatchObject({
        type: 'WorkflowSignaled',
        args: [workflowId],
      });
      await client.terminate({ workflowId });
      expect(await client.result({ workflowId })).toEqual({ status: 'TERMINATED' });
    }
    expect(service.runs.map((r) => r.workflowId)).toEqual(ids);
  });

  it('answers 400 for bad percent-encoding in a path', async () => {
    expect((await raw(server.port, 'GET', '/api/v1/workflows/%E0%A4%A')).status).toBe(400);
  });

  it('streams every appended event over server-sent events', async () => {
    const all: EventNotice[] = [];
    const onlyB: EventNotice[] = [];
    let opened = 0;
    const open = () =>
      new Promise<void>((resolve) => {
        opened++;
        resolve();
      });
    const ready: Promise<void>[] = [];
    const unsubs = [
      client.subscribe((n) => all.push(n), { onOpen: () => ready.push(open()) }),
      client.subscribe((n) => onlyB.push(n), { workflowId: 'b', onOpen: () => ready.push(open()) }),
    ];
    await expect.poll(() => opened).toBe(2);
    await expect.poll(() => service.subscriberCount).toBe(2);

    await client.startWorkflow({ workflowType: 'greet', workflowId: 'a' });
    await client.startWorkflow({ workflowType: 'greet', workflowId: 'b' });
    await client.signal({ workflowId: 'b' }, 'hello', ['line\nbreak']);
    await expect.poll(() => all.length).toBe(3);
    await expect.poll(() => onlyB.length).toBe(2);
    expect(all.map((n) => [n.workflowId, n.event.type])).toEqual([
      ['a', 'WorkflowExecutionStarted'],
      ['b', 'WorkflowExecutionStarted'],
      ['b', 'WorkflowSignaled'],
    ]);
    expect(onlyB[1]!.event).toMatchObject({ signalName: 'hello', args: ['line\nbreak'] });
    expect(onlyB[1]!.runId).toBe('run-2');

    for (const u of unsubs) u();
    await expect.poll(() => service.subscriberCount).toBe(0);
  });

  it('sends keep-alive comments on the event stream', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: server.port, path: '/api/v1/events', agent: false },
        (res) => {
          expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c) => {
            body += c;
            if (body.includes(': keep-alive')) {
              req.destroy();
              resolve(body);
            }
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(text).toMatch(/^: connected\n\n/);
  });

  it('ends event streams and pending long polls on close', async () => {
    await client.startWorkflow({ workflowType: 'greet', workflowId: 'open' });
    const poll = raw(server.port, 'GET', '/api/v1/workflows/open/result?wait=60s').catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await poll;
    server = await startHttpServer({ service, port: 0 }); // for afterEach
  });

  it('serves health', async () => {
    const res = await raw(server.port, 'GET', '/api/v1/health');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('rejects with UNAVAILABLE and a --port hint when the port is in use', async () => {
    const err = await rejection(startHttpServer({ service, port: server.port }));
    expect(err).toBeInstanceOf(WfError);
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toBe(
      `port ${server.port} is in use (another \`wf dev\`?): stop it, or start with --port N`,
    );
  });

  it('reports a missing server as UNAVAILABLE with a hint to start one', async () => {
    const s2 = await startHttpServer({ service, port: 0 });
    const deadPort = s2.port;
    await s2.close();
    const lonely = new HttpWorkflowService({ address: `http://127.0.0.1:${deadPort}` });
    try {
      const err = await rejection(lonely.list());
      expect(err).toBeInstanceOf(WfError);
      expect(err.code).toBe('UNAVAILABLE');
      expect(err.message).toBe(`no wf dev server at http://127.0.0.1:${deadPort}: start one with \`wf dev\``);
    } finally {
      await lonely.close();
    }
  });

  it('takes host:port as Temporal users type it, and refuses what is not an address', async () => {
    const typed = new HttpWorkflowService({ address: 'localhost:7466' });
    expect(typed.address).toBe('http://localhost:7466');
    await typed.close();
    expect(() => new HttpWorkflowService({ address: 'not a url' })).toThrow(InvalidArgumentError);
    expect(() => new HttpWorkflowService({ address: 'ftp://127.0.0.1:21' })).toThrow(/scheme ftp:\/\//);
  });
});

describe('HTTP server timeouts and connection cap', () => {
  let service: FakeWorkflowService;
  let server: HttpServer;

  /** A raw TCP connection: what it receives, and a promise of its closing. */
  function connect(port: number) {
    const socket = netConnect({ host: '127.0.0.1', port });
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, closed, connected, received: () => received };
  }

  beforeEach(async () => {
    service = new FakeWorkflowService();
    server = await startHttpServer({
      service,
      port: 0,
      headersTimeoutMs: 150,
      requestTimeoutMs: 300,
      keepAliveTimeoutMs: 200,
      maxConnections: 3,
      sseKeepAliveMs: 50,
    });
  });
  afterEach(async () => {
    await server.close();
  });

  it('drops a request whose headers never finish, answering 408', async () => {
    const c = connect(server.port);
    c.socket.write(`GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nX-Slow: `);
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
  });

  it('drops a request whose body never finishes', async () => {
    const c = connect(server.port);
    c.socket.write(
      `POST /api/v1/workflows HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"workflowType":`,
    );
    await c.closed;
    expect(service.calls).toEqual([]);
  });

  it('closes an idle kept-alive connection', async () => {
    const c = connect(server.port);
    c.socket.write(`GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*Keep-Alive: timeout=0/i);
  });

  it('keeps long polls and event streams open well past the request timeout: they are long answers, not slow requests', async () => {
    await service.startWorkflow({ workflowType: 'greet', workflowId: 'long' });
    const poll = raw(server.port, 'GET', '/api/v1/workflows/long/result?wait=5s');
    const stream = new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: server.port, path: '/api/v1/events', agent: false },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
            if (body.includes('"long"')) {
              req.destroy();
              resolve(body);
            }
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    await expect.poll(() => service.subscriberCount).toBe(1);
    // Past the request timeout (300 ms) and the headers timeout (150 ms) by a wide margin.
    await new Promise((resolve) => setTimeout(resolve, 700));
    await service.signal({ workflowId: 'long' }, 'ping', []);
    service.complete('long', 'done');
    expect(await poll).toMatchObject({ status: 200 });
    expect((await poll).json()).toEqual({ status: 'COMPLETED', result: 'done' });
    expect(await stream).toContain('WorkflowSignaled');
  });

  it('refuses connections beyond maxConnections, and reports them; a freed slot is usable again', async () => {
    await server.close();
    const refused: { open: number; max: number }[] = [];
    server = await startHttpServer({
      service,
      port: 0,
      maxConnections: 2,
      onConnectionRefused: (info) => refused.push(info),
    });
    const held = [connect(server.port), connect(server.port)];
    await Promise.all(held.map((c) => c.connected));
    const extra = connect(server.port);
    await extra.closed;
    expect(extra.received()).toBe('');
    expect(refused).toEqual([{ open: 2, max: 2 }]);
    held[0]!.socket.destroy();
    await held[0]!.closed;
    await expect
      .poll(async () => (await raw(server.port, 'GET', '/api/v1/health').catch(() => undefined))?.status)
      .toBe(200);
    held[1]!.socket.destroy();
  });

  it('uses defaults suited to a local API', async () => {
    const defaults = await startHttpServer({ service, port: 0 });
    try {
      expect(DEFAULT_HEADERS_TIMEOUT_MS).toBe(10_000);
      expect(DEFAULT_REQUEST_TIMEOUT_MS).toBe(30_000);
      expect(DEFAULT_KEEP_ALIVE_TIMEOUT_MS).toBe(5_000);
      expect(DEFAULT_MAX_CONNECTIONS).toBe(512);
      const res = await raw(defaults.port, 'GET', '/api/v1/health', {
        headers: { Connection: 'keep-alive' },
      });
      expect(res.headers['keep-alive']).toBe('timeout=5');
    } finally {
      await defaults.close();
    }
  });
});

describe('the time-control routes', () => {
  it('skip time, show it and fire a timer through the client; refuse bad bodies; 501 without time control', async () => {
    const calls: unknown[] = [];
    const timeControl: TimeControl = {
      currentTime: async () => ({ now: '2026-01-04T00:00:00.000Z', offsetMs: 259_200_000 }),
      skipTime: async (ms) => {
        calls.push(['skip', ms]);
        return { now: '2026-01-04T00:00:00.000Z', offsetMs: ms };
      },
      fireTimer: async (ref, seq) => {
        calls.push(['fire', ref, seq]);
        return { ...ref, runId: ref.runId ?? 'r-1', seq: seq ?? 1, fireAt: 'later', firedAt: 'now' };
      },
    };
    const server = await startHttpServer({ service: new FakeWorkflowService(), timeControl, port: 0 });
    const bare = await startHttpServer({ service: new FakeWorkflowService(), port: 0 });
    const client = new HttpWorkflowService({ address: server.url });
    const bareClient = new HttpWorkflowService({ address: bare.url });
    try {
      expect(await client.currentTime()).toEqual({ now: '2026-01-04T00:00:00.000Z', offsetMs: 259_200_000 });
      expect(await client.skipTime(3_600_000)).toMatchObject({ offsetMs: 3_600_000 });
      const typed = await raw(server.port, 'POST', '/api/v1/time/skip', {
        headers: { host: `127.0.0.1:${server.port}`, 'content-type': 'application/json' },
        body: '{"duration":"3 days"}',
      });
      expect(typed.status).toBe(200);
      expect(await client.fireTimer({ workflowId: 'a/b', runId: 'r-9' }, 2)).toMatchObject({ seq: 2 });
      expect(calls).toEqual([
        ['skip', 3_600_000],
        ['skip', 259_200_000],
        ['fire', { workflowId: 'a/b', runId: 'r-9' }, 2],
      ]);
      const missing = await raw(server.port, 'POST', '/api/v1/time/skip', {
        headers: { host: `127.0.0.1:${server.port}` },
        body: '{}',
      });
      expect(missing.status).toBe(400);
      expect(missing.json().error.message).toMatch(/"duration" is required/);
      const badSeq = await raw(server.port, 'POST', '/api/v1/workflows/w/timers/fire', {
        headers: { host: `127.0.0.1:${server.port}` },
        body: '{"seq":"first"}',
      });
      expect(badSeq.status).toBe(400);
      expect(badSeq.json().error.message).toMatch(/"seq" must be a non-negative integer/);
      const refused = await rejection(bareClient.currentTime());
      expect(refused).toBeInstanceOf(WfError);
      expect(refused.message).toMatch(/does not control its time \(wf dev does\)/);
    } finally {
      await client.close();
      await bareClient.close();
      await server.close();
      await bare.close();
    }
  });
});

describe('GET /metrics', () => {
  const servers: HttpServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  async function serve(options: { apiToken?: string; only?: 'metrics' } = {}) {
    const metrics = new PrometheusMetrics({ defaultMetrics: false });
    metrics.workflowStarted('orderWorkflow');
    const server = await startHttpServer({
      service: new FakeWorkflowService(),
      port: 0,
      metrics,
      ...options,
    });
    servers.push(server);
    return server;
  }

  it('serves the registry in the Prometheus text format, GET and HEAD only', async () => {
    const { port } = await serve();
    const res = await raw(port, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toContain('wf_workflow_started_total{workflow_type="orderWorkflow"} 1');
    const head = await raw(port, 'HEAD', '/metrics');
    expect(head).toMatchObject({ status: 200, body: '' });
    const post = await raw(port, 'POST', '/metrics', { body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET');
  });

  it('follows the API token rule', async () => {
    const { port } = await serve({ apiToken: 'a-long-enough-secret-token' });
    expect((await raw(port, 'GET', '/metrics')).status).toBe(401);
    const ok = await raw(port, 'GET', '/metrics', {
      headers: { Authorization: 'Bearer a-long-enough-secret-token' },
    });
    expect(ok.status).toBe(200);
  });

  it('the metrics port answers /metrics only', async () => {
    const { port } = await serve({ only: 'metrics' });
    expect((await raw(port, 'GET', '/metrics')).status).toBe(200);
    const api = await raw(port, 'GET', '/api/v1/health');
    expect(api.status).toBe(404);
    expect(api.json().error.message).toContain('this is the metrics port');
  });
});
