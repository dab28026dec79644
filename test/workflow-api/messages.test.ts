import { describe, expect, it } from 'vitest';
import { rejection, START, tearDownEnvAfterEach, testEnv } from './helpers.js';

tearDownEnvAfterEach();

describe('timers and conditions', () => {
  it('sleep takes durations as strings or milliseconds and moves workflow time by exactly that', async () => {
    const env = await testEnv();
    await expect(env.client.execute('sleeper', { workflowId: 's' })).resolves.toEqual([
      86_400_000, 5_400_000, 500,
    ]);
    const timers = (await env.history('s')).flatMap((e) => (e.type === 'TimerStarted' ? [e.durationMs] : []));
    expect(timers).toEqual([86_400_000, 5_400_000, 500]);
  });

  it('condition with a timeout resolves false when time runs out, true when the condition holds; without one it waits', async () => {
    const env = await testEnv();
    const handle = await env.client.start('conditions', { workflowId: 'c' });
    await env.sleep('2 hours');
    await handle.signal('go');
    await expect(handle.result()).resolves.toEqual({ timedOut: true, signalled: true, waitedMs: 3_600_000 });
    const types = (await env.history('c')).map((e) => e.type);
    // the timer of the last condition() is cancelled once the condition holds
    expect(types.filter((t) => t === 'TimerStarted')).toHaveLength(2);
    expect(types.filter((t) => t === 'TimerCanceled')).toHaveLength(1);
  });
});

describe('signals, queries and updates', () => {
  it('signals sent before their handler is set are buffered and delivered in order', async () => {
    const env = await testEnv();
    const handle = await env.client.start('buffered', { workflowId: 'b' });
    await handle.signal('add', 'one');
    await handle.signal('add', 'two');
    await handle.signal('go');
    await handle.signal('add', 'three');
    await expect(handle.result()).resolves.toEqual(['one', 'two', 'three']);
  });

  it('queries read state; an unknown query names the ones the workflow has', async () => {
    const env = await testEnv();
    const handle = await env.client.start('updatable', { workflowId: 'q' });
    await handle.signal('add', 'x');
    await expect(handle.query('items')).resolves.toEqual(['x']);
    const error = await rejection(handle.query('nope'));
    expect(error.message).toContain('no query handler for "nope"');
    expect(error.message).toContain('"items"');
  });

  it('an accepted update runs its handler (which may wait) and returns its result', async () => {
    const env = await testEnv();
    const handle = await env.client.start('updatable', { workflowId: 'u1' });
    await handle.signal('add', 'a');
    await handle.signal('add', 'b');
    await handle.signal('add', 'dropped: over the limit');
    await expect(handle.executeUpdate('setLimit', { args: [3] })).resolves.toBe(3);
    await handle.signal('add', 'c');
    await handle.signal('go');
    await expect(handle.result()).resolves.toEqual(['a', 'b', 'c']);
    const types = (await env.history('u1')).map((e) => e.type);
    expect(types).toContain('WorkflowUpdateAccepted');
    expect(types).toContain('WorkflowUpdateCompleted');
  });

  it('a validator that throws rejects the update with its message; nothing of it reaches the workflow', async () => {
    const env = await testEnv();
    const handle = await env.client.start('updatable', { workflowId: 'u2' });
    await handle.signal('add', 'a');
    await handle.signal('add', 'b');
    const error = await rejection(handle.executeUpdate('setLimit', { args: [1] }));
    expect(error.message).toContain('limit 1 is below the 2 items held');
    const history = await env.history('u2');
    expect(history.map((e) => e.type)).toContain('WorkflowUpdateRejected');
    expect(history.map((e) => e.type)).not.toContain('WorkflowUpdateAccepted');
    await handle.signal('go');
    await expect(handle.result()).resolves.toEqual(['a', 'b']);
  });

  it('an unknown update is refused with a message naming it', async () => {
    const env = await testEnv();
    const handle = await env.client.start('updatable', { workflowId: 'u3' });
    const error = await rejection(handle.executeUpdate('nope'));
    expect(error.message).toContain('"nope"');
  });
});

describe('workflowInfo', () => {
  it('describes the run', async () => {
    const env = await testEnv();
    const handle = await env.client.start('info', { workflowId: 'i', workflowRunTimeout: '1 day' });
    const info = await handle.result();
    expect(info).toEqual({
      workflowId: 'i',
      runId: handle.firstExecutionRunId,
      workflowType: 'info',
      firstExecutionRunId: handle.firstExecutionRunId,
      attempt: 1,
      historyLength: 1,
      startTime: START,
      runTimeoutMs: 86_400_000,
      isReplaying: false,
    });
  });
});

describe('determinism inside the sandbox', () => {
  it('uuid4() and Math.random() give the same values when the history is replayed', async () => {
    const env = await testEnv();
    const handle = await env.client.start('randomness', { workflowId: 'rnd' });
    const result = (await handle.result()) as { uuids: string[]; numbers: number[] };
    expect(result.uuids).toHaveLength(3);
    for (const u of result.uuids)
      expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(result.uuids).size).toBe(3);
    for (const n of result.numbers) expect(n >= 0 && n < 1).toBe(true);
    // a query on a closed run rebuilds it by replay: the values must be the recorded ones
    await expect(handle.query('randoms')).resolves.toEqual(result);
  });

  it('a second run gets other values (the seed is per run)', async () => {
    const env = await testEnv();
    const a = (await env.client.execute('randomness', { workflowId: 'rnd-a' })) as { uuids: string[] };
    const b = (await env.client.execute('randomness', { workflowId: 'rnd-b' })) as { uuids: string[] };
    expect(a.uuids[0]).not.toBe(b.uuids[0]);
  });

  it('Date is frozen during an activation and moves to the time of each event', async () => {
    const env = await testEnv();
    const handle = await env.client.start('clocks', { workflowId: 'd' });
    const seen = (await handle.result()) as number[];
    const history = await env.history('d');
    const timeOf = (type: string) => Date.parse(history.find((e) => e.type === type)!.eventTime);
    expect(seen[0]).toBe(START);
    expect(seen[1]).toBe(seen[0]);
    expect(seen[2]).toBe(timeOf('TimerFired'));
    expect(seen[2]! - seen[0]!).toBe(3_600_000);
    expect(seen[3]).toBe(timeOf('ActivityTaskCompleted'));
    await expect(handle.query('clock')).resolves.toEqual(seen);
  });
});

describe('patched', () => {
  it('is true in a new run and records a marker', async () => {
    const env = await testEnv();
    await expect(env.client.execute('patching', { workflowId: 'pt' })).resolves.toBe('new');
    const marker = (await env.history('pt')).find((e) => e.type === 'MarkerRecorded');
    expect(marker).toMatchObject({ patchId: 'v2', deprecated: false });
  });
});

describe('log', () => {
  it('writes each line once: silent while a history is replayed', async () => {
    const lines: string[] = [];
    const env = await testEnv(
      {},
      { log: (_runId, record) => lines.push(`${record.level} ${record.message}`) },
    );
    const handle = await env.client.start('logging', { workflowId: 'l' });
    await handle.result();
    expect(lines).toEqual(['info started', 'warn slept', 'error done']);
    // a query on the closed run replays its whole history
    await handle.query('__none__').catch(() => undefined);
    expect(lines).toHaveLength(3);
  });
});
