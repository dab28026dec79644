import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OffsetClock } from './clock.js';

describe('OffsetClock', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is real time plus its offset', () => {
    const clock = new OffsetClock(60_000);
    expect(clock.now()).toBe(Date.parse('2026-01-01T00:01:00Z'));
    vi.advanceTimersByTime(1000);
    expect(clock.now()).toBe(Date.parse('2026-01-01T00:01:01Z'));
  });

  it('fires timers made due by a skip at once, in deadline order, and leaves later ones waiting', () => {
    const clock = new OffsetClock();
    const fired: string[] = [];
    const start = clock.now();
    clock.setTimer(start + 3 * 86_400_000, () => fired.push('3 days'));
    clock.setTimer(start + 3_600_000, () => fired.push('1 hour'));
    clock.setTimer(start + 10 * 86_400_000, () => fired.push('10 days'));
    const cancelled = clock.setTimer(start + 60_000, () => fired.push('cancelled'));
    cancelled.cancel();
    clock.skip(3 * 86_400_000);
    expect(clock.offsetMs).toBe(3 * 86_400_000);
    vi.advanceTimersByTime(0);
    expect(fired).toEqual(['1 hour', '3 days']);
    vi.advanceTimersByTime(7 * 86_400_000 - 1);
    expect(fired).toEqual(['1 hour', '3 days']);
    vi.advanceTimersByTime(2);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['1 hour', '3 days', '10 days']);
  });

  it('only moves forward', () => {
    const clock = new OffsetClock();
    expect(() => clock.skip(-1)).toThrow(/only be skipped forward/);
    expect(() => new OffsetClock(-5)).toThrow(/non-negative/);
  });
});
