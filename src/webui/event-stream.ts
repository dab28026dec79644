/**
 * The live feed: `GET /api/v1/events` (server-sent events) read with fetch, so that the API token
 * travels as a header (EventSource cannot send one). Reconnects with a growing delay when the
 * server goes away, and says so, so the page can show a banner and catch up once it is back.
 */
import type { EventNotice } from '../protocol/service.js';
import { authHeaders } from './api.js';

export type StreamStatus = 'connecting' | 'live' | 'down' | 'unauthorized';

/** Splits a text/event-stream into the `data` of its messages (comments and other fields ignored). */
export class SseParser {
  private buffer = '';

  /** Feeds a chunk of text; returns the data of every message it completed. */
  push(chunk: string): string[] {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    const out: string[] = [];
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end === -1) break;
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5));
      if (data.length > 0) out.push(data.join('\n'));
    }
    return out;
  }
}

export interface EventStreamHandlers {
  onNotice(notice: EventNotice): void;
  onStatus(status: StreamStatus): void;
}

/** Opens the feed and keeps it open; returns a function that closes it for good. */
export function openEventStream(handlers: EventStreamHandlers): () => void {
  let closed = false;
  let controller: AbortController | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;

  const connect = async () => {
    if (closed) return;
    controller = new AbortController();
    handlers.onStatus('connecting');
    try {
      const res = await fetch('/api/v1/events', {
        headers: { Accept: 'text/event-stream', ...authHeaders() },
        signal: controller.signal,
        cache: 'no-store',
      });
      if (res.status === 401) {
        handlers.onStatus('unauthorized');
        return;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      failures = 0;
      handlers.onStatus('live');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const data of parser.push(value)) {
          try {
            handlers.onNotice(JSON.parse(data) as EventNotice);
          } catch {
            // A message that is not JSON is not ours: skip it.
          }
        }
      }
    } catch {
      // Refused, reset or aborted: handled below.
    }
    if (closed) return;
    handlers.onStatus('down');
    failures++;
    retry = setTimeout(() => void connect(), Math.min(500 * 2 ** (failures - 1), 5000));
  };

  void connect();
  return () => {
    closed = true;
    if (retry) clearTimeout(retry);
    controller?.abort();
  };
}
