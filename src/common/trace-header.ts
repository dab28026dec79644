/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) as wf carries it: a `header` on a start
 * request, and on the history event that starts a run, so that a run's spans join its caller's
 * trace across restarts and processes. Part of history format v1.
 */

/** The W3C `traceparent` and `tracestate` of the span that caused a run (or a message to it). */
export interface TraceHeader {
  /** `00-<32 hex trace ID>-<16 hex parent span ID>-<2 hex flags>`. */
  traceparent: string;
  tracestate?: string;
}

/** A parsed `traceparent`. */
export interface TraceParent {
  traceId: string;
  spanId: string;
  /** Bit 0: sampled. */
  flags: number;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** Parses a `traceparent`; undefined when it is malformed, of version ff, or has all-zero IDs. */
export function parseTraceparent(value: string): TraceParent | undefined {
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}

export function formatTraceparent({ traceId, spanId, flags }: TraceParent): string {
  return `00-${traceId}-${spanId}-${(flags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A header as received from outside (an HTTP body): kept when its `traceparent` parses, else dropped. */
export function checkTraceHeader(value: unknown): TraceHeader | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { traceparent, tracestate } = value as Record<string, unknown>;
  if (typeof traceparent !== 'string' || !parseTraceparent(traceparent)) return undefined;
  return typeof tracestate === 'string' && tracestate.length > 0 && tracestate.length <= 512
    ? { traceparent, tracestate }
    : { traceparent };
}
