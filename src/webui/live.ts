/** The live feed shared by the pages: one event stream per page, fanned out to whoever listens. */
import { createContext, useContext, useEffect, useRef, useState } from 'react';
import type { EventNotice } from '../protocol/service.js';

export class NoticeBus {
  private readonly noticeListeners = new Set<(notice: EventNotice) => void>();
  private readonly reconnectListeners = new Set<() => void>();

  emit(notice: EventNotice): void {
    for (const listener of this.noticeListeners) listener(notice);
  }

  /** The stream is back after a gap: events may have been missed, so pages read again. */
  reconnected(): void {
    for (const listener of this.reconnectListeners) listener();
  }

  onNotice(listener: (notice: EventNotice) => void): () => void {
    this.noticeListeners.add(listener);
    return () => this.noticeListeners.delete(listener);
  }

  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }
}

export const LiveContext = createContext<NoticeBus>(new NoticeBus());

/** Calls `handler` (the latest one rendered) for every event appended to any history. */
export function useNotices(handler: (notice: EventNotice) => void): void {
  const bus = useContext(LiveContext);
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => bus.onNotice((n) => ref.current(n)), [bus]);
}

/** Calls `handler` when the live feed reconnects after the server was gone. */
export function useReconnect(handler: () => void): void {
  const bus = useContext(LiveContext);
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => bus.onReconnect(() => ref.current()), [bus]);
}

/** How far the server's clock is ahead of this browser's (`wf time skip`), in ms. */
export const ClockOffsetContext = createContext(0);

/**
 * A ticking clock on the server's time (ms since epoch): histories record the time workflows saw,
 * which runs ahead of real time after `wf time skip`, so durations and "in 5m" are read against it.
 */
export function useNow(intervalMs = 1000): number {
  const offset = useContext(ClockOffsetContext);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now + offset;
}
