/** A cancellable scheduled callback. */
export interface TimerHandle {
  cancel(): void;
}

/** Time as the engine sees it: real in `wf dev`, virtual (skippable) in the test environment. */
export interface Clock {
  now(): number;
  /** Calls `fn` at (never before) epoch-ms `at`; at once if `at` has passed. */
  setTimer(at: number, fn: () => void): TimerHandle;
}

const MAX_TIMEOUT = 2 ** 31 - 1;

export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimer(at: number, fn: () => void): TimerHandle {
    let handle: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = () => {
      if (cancelled) return;
      const wait = at - Date.now();
      if (wait <= 0) {
        handle = setTimeout(fn, 0);
        return;
      }
      // setTimeout fires early or overflows past ~24.8 days; re-arm until the deadline has passed.
      handle = setTimeout(arm, Math.min(wait + 1, MAX_TIMEOUT));
    };
    arm();
    return {
      cancel: () => {
        cancelled = true;
        if (handle) clearTimeout(handle);
      },
    };
  }
}

interface VirtualTimer {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. Timers fire in deadline order (ties in the order they were
 * set) as time is advanced past them.
 */
export class VirtualClock implements Clock {
  private current: number;
  private timers: VirtualTimer[] = [];
  private order = 0;

  constructor(start = Date.now()) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(at: number, fn: () => void): TimerHandle {
    const timer: VirtualTimer = { at, order: this.order++, fn, cancelled: false };
    if (at <= this.current) {
      queueMicrotask(() => {
        if (!timer.cancelled) fn();
      });
      return {
        cancel: () => {
          timer.cancelled = true;
        },
      };
    }
    this.timers.push(timer);
    this.timers.sort((a, b) => a.at - b.at || a.order - b.order);
    return {
      cancel: () => {
        timer.cancelled = true;
        this.timers = this.timers.filter((t) => t !== timer);
      },
    };
  }

  /** The deadline of the next pending timer. */
  nextTimerAt(): number | undefined {
    return this.timers[0]?.at;
  }

  /** Moves to the next timer's deadline and fires every timer due then. Returns false if none is pending. */
  advanceToNextTimer(): boolean {
    const next = this.timers[0];
    if (!next) return false;
    this.advanceTo(next.at);
    return true;
  }

  /** Moves time forward to `at`, firing due timers in order. */
  advanceTo(at: number): void {
    if (at < this.current) return;
    this.current = at;
    const due = this.timers.filter((t) => t.at <= at);
    this.timers = this.timers.filter((t) => t.at > at);
    for (const timer of due) if (!timer.cancelled) timer.fn();
  }
}

interface OffsetTimer {
  at: number;
  order: number;
  fn: () => void;
  handle?: NodeJS.Timeout;
  done: boolean;
}

/**
 * Real time plus an offset that only grows: the clock of `wf dev`, whose time can be skipped forward
 * (`wf time skip`). Skipping re-arms every pending timer against the new time, so timers now due fire
 * at once, in deadline order (ties in the order they were set).
 */
export class OffsetClock implements Clock {
  private offset: number;
  private readonly timers = new Set<OffsetTimer>();
  private order = 0;

  constructor(offsetMs = 0) {
    if (!Number.isFinite(offsetMs) || offsetMs < 0) {
      throw new RangeError(`a clock offset must be a non-negative number of milliseconds, not ${offsetMs}`);
    }
    this.offset = offsetMs;
  }

  /** How far this clock is ahead of real time, in milliseconds. */
  get offsetMs(): number {
    return this.offset;
  }

  now(): number {
    return Date.now() + this.offset;
  }

  setTimer(at: number, fn: () => void): TimerHandle {
    const timer: OffsetTimer = { at, order: this.order++, fn, done: false };
    this.timers.add(timer);
    this.arm(timer);
    return {
      cancel: () => {
        timer.done = true;
        if (timer.handle) clearTimeout(timer.handle);
        this.timers.delete(timer);
      },
    };
  }

  /** Moves time forward by `ms` (never back): timers whose deadline has now passed fire at once. */
  skip(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`time can only be skipped forward: ${ms} ms is not a non-negative duration`);
    }
    this.offset += ms;
    const pending = [...this.timers].sort((a, b) => a.at - b.at || a.order - b.order);
    for (const timer of pending) {
      if (timer.handle) clearTimeout(timer.handle);
      timer.handle = undefined;
    }
    for (const timer of pending) this.arm(timer);
  }

  private arm(timer: OffsetTimer): void {
    if (timer.done) return;
    const wait = timer.at - this.now();
    if (wait <= 0) {
      timer.handle = setTimeout(() => {
        if (timer.done) return;
        timer.done = true;
        this.timers.delete(timer);
        timer.fn();
      }, 0);
      return;
    }
    // setTimeout fires early or overflows past ~24.8 days; re-arm until the deadline has passed.
    timer.handle = setTimeout(() => this.arm(timer), Math.min(wait + 1, MAX_TIMEOUT));
  }
}
