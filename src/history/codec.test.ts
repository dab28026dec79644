import { describe, expect, it } from 'vitest';
import { sampleHistory, T } from '../../test/support/history-samples.js';
import {
  checkEvent,
  crc32Hex,
  decodeEventLine,
  parseEvent,
  parseHistoryJsonl,
  serializeEvent,
  serializeEventWithCrc,
  serializeHistoryJsonl,
} from './codec.js';
import { HistoryCorruptError } from './store.js';

const where = { file: 'h.jsonl', line: 3 };

function corruptionOf(fn: () => unknown): { line: number; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HistoryCorruptError);
    const c = (error as HistoryCorruptError).corruption;
    return { line: c.line, message: c.message };
  }
  throw new Error('expected HistoryCorruptError');
}

describe('codec', () => {
  it('round-trips a history with and without crc', () => {
    const events = sampleHistory();
    expect(parseHistoryJsonl(serializeHistoryJsonl(events), 'h.jsonl')).toEqual(events);
    const withCrc = `${events.map(serializeEventWithCrc).join('\n')}\n\n`;
    expect(parseHistoryJsonl(withCrc, 'h.jsonl')).toEqual(events);
    expect(serializeEvent(events[0]!)).not.toContain('\n');
  });

  it('computes the CRC-32 of the UTF-8 bytes that stores written by every earlier wf carry', () => {
    // Values from an independent CRC-32 (IEEE) implementation: the format must never change them.
    expect(crc32Hex('héllo wörld ✓ 𝄞')).toBe('d170c432');
    expect(crc32Hex('{"eventId":1}')).toBe('38ee0ad4');
    expect(crc32Hex('')).toBe('00000000');
    const written = '{"eventId":1,"crc":"38ee0ad4"}';
    expect(decodeEventLine(written)).toMatchObject({ ok: false, kind: 'schema' }); // crc fine, no type
    expect(decodeEventLine(written.replace('38ee0ad4', '38ee0ad5'))).toMatchObject({
      ok: false,
      kind: 'crc',
    });
  });

  it('names the field at fault through nested failure causes, and refuses causes nested too deeply', () => {
    const failed = (failure: unknown) =>
      checkEvent({
        eventId: 3,
        eventTime: '2026-01-01T00:00:00.000Z',
        type: 'WorkflowExecutionFailed',
        failure,
      });
    expect(
      failed({
        name: 'E',
        message: 'm',
        cause: { name: 'E', message: 'm', cause: { name: 5, message: 'x' } },
      }),
    ).toEqual({
      message: 'event 3 (WorkflowExecutionFailed): "failure.cause.cause.name" must be a string, got 5',
    });
    let deep: Record<string, unknown> = { name: 'E', message: 'm' };
    for (let i = 0; i < 70; i++) deep = { name: 'E', message: 'm', cause: deep };
    expect(failed(deep)).toMatchObject({ message: expect.stringMatching(/nests causes deeper than 64$/) });
    expect(failed({ name: 'E', message: 'm', cause: { name: 'E', message: 'm' } })).toHaveProperty('event');
  });

  it('puts the crc last and verifies it', () => {
    const e = sampleHistory()[7]!;
    const line = serializeEventWithCrc(e);
    expect(line).toMatch(/,"crc":"[0-9a-f]{8}"\}$/);
    expect(line.endsWith(`,"crc":"${crc32Hex(JSON.stringify(e))}"}`)).toBe(true);
    const decoded = decodeEventLine(line);
    expect(decoded).toEqual({ ok: true, event: e });
    const edited = line.replace('approve', 'approvX');
    const bad = decodeEventLine(edited);
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.kind).toBe('crc');
      expect(bad.message).toMatch(/checksum mismatch/);
    }
  });

  it('verifies the crc example of docs/history-format.md', () => {
    const line =
      '{"eventId":2,"eventTime":"2024-05-01T10:00:00.000Z","type":"TimerFired","seq":1,"crc":"2854a760"}';
    expect(decodeEventLine(line).ok).toBe(true);
    expect(decodeEventLine(line.replace('"seq":1', '"seq":2')).ok).toBe(false);
  });

  it('names the missing field, event and line', () => {
    const c = corruptionOf(() =>
      parseEvent({ eventId: 7, eventTime: T, type: 'ActivityTaskCompleted', attempt: 1, result: 1 }, where),
    );
    expect(c).toEqual({ line: 3, message: 'event 7 (ActivityTaskCompleted) is missing "seq"' });
    const text = `${sampleHistory()
      .slice(0, 4)
      .map(serializeEvent)
      .join('\n')}\n{"eventId":5,"eventTime":"${T}","type":"ActivityTaskCompleted","attempt":2}\n`;
    expect(corruptionOf(() => parseHistoryJsonl(text, 'h.jsonl'))).toEqual({
      line: 5,
      message: 'event 5 (ActivityTaskCompleted) is missing "seq"',
    });
  });

  it('checks types of nested fields', () => {
    const e = structuredClone(sampleHistory()[1]!) as unknown as {
      options: { retry: Record<string, unknown> };
    };
    e.options.retry.maximumAttempts = 'three';
    expect(corruptionOf(() => parseEvent(e, where)).message).toBe(
      'event 2 (ActivityTaskScheduled): "options.retry.maximumAttempts" must be an integer >= 0, got "three"',
    );
    const f = structuredClone(sampleHistory()[3]!) as unknown as {
      failure: { cause: Record<string, unknown> };
    };
    f.failure.cause.message = 5;
    expect(corruptionOf(() => parseEvent(f, where)).message).toMatch(
      /"failure.cause.message" must be a string/,
    );
    expect(
      corruptionOf(() => parseEvent({ ...sampleHistory()[0]!, eventTime: 'yesterday' }, where)).message,
    ).toMatch(/"eventTime" must be an ISO-8601 time/);
    expect(corruptionOf(() => parseEvent([1], where)).message).toMatch(/must be a JSON object/);
  });

  it('accepts every event type of events.ts with its required fields', () => {
    const failure = { message: 'm', name: 'Error' };
    const samples: Record<string, unknown>[] = [
      { type: 'ActivityTaskTimedOut', seq: 1, attempt: 1, timeoutType: 'HEARTBEAT', lastFailure: failure },
      { type: 'ActivityTaskCancelRequested', seq: 1 },
      { type: 'ActivityTaskCanceled', seq: 1 },
      { type: 'TimerCanceled', seq: 1 },
      { type: 'WorkflowUpdateAccepted', updateId: 'u', updateName: 'n', args: [] },
      { type: 'WorkflowUpdateCompleted', updateId: 'u', result: 1 },
      { type: 'WorkflowUpdateRejected', updateId: 'u', updateName: 'n', failure },
      {
        type: 'ChildWorkflowExecutionStarted',
        seq: 1,
        workflowType: 'w',
        workflowId: 'c',
        args: [],
        parentClosePolicy: 'ABANDON',
      },
      { type: 'ChildWorkflowExecutionCompleted', seq: 1, result: null },
      { type: 'ChildWorkflowExecutionFailed', seq: 1, failure },
      { type: 'WorkflowExecutionCancelRequested', reason: 'r' },
      { type: 'WorkflowExecutionFailed', failure },
      { type: 'WorkflowExecutionCanceled' },
      { type: 'WorkflowExecutionTerminated' },
      { type: 'WorkflowExecutionTimedOut' },
      { type: 'WorkflowExecutionContinuedAsNew', newRunId: 'r2', workflowType: 'w', args: [] },
      { type: 'ActivityTaskCompleted', seq: 1, attempt: 1 },
    ];
    for (const s of samples) {
      const e = { eventId: 2, eventTime: T, ...s };
      expect(parseEvent(e, where)).toEqual(e);
    }
    expect(
      corruptionOf(() =>
        parseEvent(
          {
            eventId: 2,
            eventTime: T,
            type: 'ChildWorkflowExecutionStarted',
            seq: 1,
            workflowType: 'w',
            workflowId: 'c',
            args: [],
            parentClosePolicy: 'KILL',
          },
          where,
        ),
      ).message,
    ).toMatch(/"parentClosePolicy" must be one of/);
  });

  it('rejects unknown types', () => {
    expect(
      corruptionOf(() => parseEvent({ eventId: 2, eventTime: T, type: 'Bogus' }, where)).message,
    ).toMatch(/event 2 has unknown type "Bogus"/);
  });

  it('reads "__proto__" and "constructor" keys of payloads back as own data, never as prototypes', () => {
    const proto = `{"eventId":8,"eventTime":"${T}","type":"WorkflowSignaled","signalName":"s","args":[{"__proto__":{"x":1}},{"constructor":{"prototype":{"y":2}}}]}`;
    const decoded = decodeEventLine(proto);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(serializeEvent(decoded.event)).toBe(proto);
    const [first] = (decoded.event as { args: object[] }).args;
    expect(Object.getPrototypeOf(first)).toBe(Object.prototype);
    expect(Object.hasOwn(first!, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(({} as Record<string, unknown>).y).toBeUndefined();
  });

  it('refuses a line nested deeper than 512 levels, without overflowing the stack', () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const line = (n: number) =>
      `{"eventId":8,"eventTime":"${T}","type":"WorkflowSignaled","signalName":"s","args":${deep(n)}}`;
    expect(decodeEventLine(line(511)).ok).toBe(true);
    for (const n of [512, 100_000]) {
      const decoded = decodeEventLine(line(n));
      expect(decoded).toEqual({
        ok: false,
        kind: 'schema',
        message: `the line nests ${n + 1} levels of arrays and objects deep: the most is 512`,
      });
    }
  });

  it('checks the shape of a whole history', () => {
    const lines = sampleHistory().map(serializeEvent);
    // gap in ids
    const gap = [...lines.slice(0, 3), ...lines.slice(4)].join('\n');
    expect(corruptionOf(() => parseHistoryJsonl(gap, 'h.jsonl'))).toEqual({
      line: 4,
      message:
        'event ids must count up by one: event 3 is followed by event 5 (ActivityTaskCompleted), expected event 4',
    });
    // does not start with WorkflowExecutionStarted
    expect(corruptionOf(() => parseHistoryJsonl(lines.slice(1).join('\n'), 'h.jsonl')).message).toMatch(
      /first event must have eventId 1/,
    );
    // newer format
    const v2 = { ...sampleHistory()[0]!, formatVersion: 2 };
    expect(corruptionOf(() => parseHistoryJsonl(serializeEvent(v2), 'h.jsonl')).message).toBe(
      'this history is in format version 2, but this wf reads format versions up to 1: upgrade wf to read it',
    );
    // something after the closing event
    const after = `${lines.join('\n')}\n${serializeEvent({ eventId: 11, eventTime: T, type: 'TimerFired', seq: 9 })}`;
    expect(corruptionOf(() => parseHistoryJsonl(after, 'h.jsonl'))).toEqual({
      line: 11,
      message:
        'event 11 (TimerFired) follows the closing event 10 (WorkflowExecutionCompleted): nothing may follow a closing event',
    });
    // blank line in the middle, bad JSON, empty file
    expect(corruptionOf(() => parseHistoryJsonl(`${lines[0]}\n\n${lines[1]}`, 'h.jsonl')).line).toBe(2);
    expect(corruptionOf(() => parseHistoryJsonl(`${lines[0]}\n{"eventId":2,`, 'h.jsonl')).message).toMatch(
      /not valid JSON/,
    );
    expect(corruptionOf(() => parseHistoryJsonl('\n', 'h.jsonl')).message).toMatch(/empty/);
    // CRLF line endings from an editor are fine
    expect(parseHistoryJsonl(lines.join('\r\n'), 'h.jsonl')).toHaveLength(10);
  });
});
