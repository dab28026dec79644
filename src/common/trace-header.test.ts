import { describe, expect, it } from 'vitest';
import { checkTraceHeader, formatTraceparent, parseTraceparent } from './trace-header.js';

const ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('W3C trace context headers', () => {
  it('parses and formats a traceparent', () => {
    expect(parseTraceparent(`00-${ID}-${SPAN}-01`)).toEqual({ traceId: ID, spanId: SPAN, flags: 1 });
    expect(formatTraceparent({ traceId: ID, spanId: SPAN, flags: 0 })).toBe(`00-${ID}-${SPAN}-00`);
  });

  it('refuses malformed ones, version ff and all-zero IDs; accepts a later version with more fields', () => {
    for (const bad of [
      '',
      `00-${ID}-${SPAN}`,
      `00-${ID.toUpperCase()}-${SPAN}-01`,
      `ff-${ID}-${SPAN}-01`,
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${ID}-${'0'.repeat(16)}-01`,
      `00-${ID}-${SPAN}-01-extra`,
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
    expect(parseTraceparent(`01-${ID}-${SPAN}-01-extra`)).toMatchObject({ traceId: ID });
  });

  it('keeps a well-formed header from a request body and drops anything else', () => {
    expect(checkTraceHeader({ traceparent: `00-${ID}-${SPAN}-01`, tracestate: 'a=b' })).toEqual({
      traceparent: `00-${ID}-${SPAN}-01`,
      tracestate: 'a=b',
    });
    expect(checkTraceHeader({ traceparent: `00-${ID}-${SPAN}-01`, tracestate: 42 })).toEqual({
      traceparent: `00-${ID}-${SPAN}-01`,
    });
    expect(checkTraceHeader({ traceparent: 'nope' })).toBeUndefined();
    expect(checkTraceHeader('00-x')).toBeUndefined();
    expect(checkTraceHeader(undefined)).toBeUndefined();
  });
});
