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
