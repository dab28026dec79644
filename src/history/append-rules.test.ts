import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { T } from '../../test/support/history-samples.js';
import { awkwardJson, eventsCarrying } from '../../test/support/json-arbitraries.js';
import { InvalidArgumentError } from '../common/errors.js';
import { prepareAppend, validateId } from './append-rules.js';
import { decodeEventLine, serializeHistoryJsonl } from './codec.js';
import { FileHistoryStore } from './file-store.js';

// The properties every store must show (round trips, nesting limits) are in the store contract
// (test/support/store-contract.ts), run against the memory, file and PostgreSQL stores.

describe('append rules', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('returns the lines to record, each one the reader accepts', () => {
    fc.assert(
      fc.property(awkwardJson, (v) => {
        const events = eventsCarrying('w', 'r', v);
        const { lines, position } = prepareAppend({ workflowId: 'w', runId: 'r' }, undefined, events);
        expect(position).toEqual({ nextEventId: 8, closed: true });
        expect(lines.map((line) => decodeEventLine(line).ok)).toEqual(events.map(() => true));
      }),
      { numRuns: 100 },
    );
  });

  it('refuses IDs that are not well-formed Unicode', () => {
    expect(() => validateId('workflowId', 'a\ud800')).toThrow(InvalidArgumentError);
    expect(() => validateId('runId', '\udc00')).toThrow(
      'runId "\\udc00" is not well-formed Unicode (it holds a lone surrogate): use only complete characters',
    );
    expect(validateId('workflowId', 'ok 😀')).toBe('ok 😀');
  });

  it('refuses a value that is not JSON, naming the event', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const [start] = eventsCarrying('w', 'r', 1);
    expect(() =>
      prepareAppend({ workflowId: 'w', runId: 'r' }, { nextEventId: 2, closed: false }, [
        { eventId: 2, eventTime: T, type: 'WorkflowSignaled', signalName: 's', args: [cyclic] },
      ]),
    ).toThrow(/cannot append event 2 \(WorkflowSignaled\) to run r: it cannot be written as JSON/);
    expect(start?.type).toBe('WorkflowExecutionStarted');
  });

  it('the file store reads every acknowledged line back the same after it is closed and opened again', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wf-append-rules-'));
    dirs.push(dir);
    let store = await FileHistoryStore.open(dir, { indexDelayMs: 60_000 });
    const acknowledged = new Map<string, string>();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(awkwardJson, async (v) => {
        const key = { workflowId: `w-${n++}`, runId: 'r' };
        await store.append(key, eventsCarrying(key.workflowId, key.runId, v));
        acknowledged.set(key.workflowId, serializeHistoryJsonl(await store.readHistory(key)));
      }),
      { numRuns: 60 },
    );
    await store.close();
    store = await FileHistoryStore.open(dir, { indexDelayMs: 60_000 });
    try {
      expect(store.openReport().corrupt).toEqual([]);
      for (const [workflowId, text] of acknowledged) {
        expect(serializeHistoryJsonl(await store.readHistory({ workflowId, runId: 'r' }))).toBe(text);
      }
    } finally {
      await store.close();
    }
  });
});
