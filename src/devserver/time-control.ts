/**
 * Time control of `wf dev`: its clock is real time plus an offset that `wf time skip` grows. The
 * offset lives in the store directory (clock.json), written before the clock moves, so a restart
 * (or a crash right after the write) keeps it and the times recorded in histories never go back.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import secureJson from 'secure-json-parse';
import { InvalidArgumentError, WfError } from '../common/errors.js';
import type { FiredTimer, RunRef, TimeControl, TimeInfo } from '../protocol/service.js';
import type { OffsetClock } from '../runtime/clock.js';
import type { WorkflowEngine } from '../runtime/engine/index.js';

/** The file in a store directory that keeps the dev server's clock offset. */
export const CLOCK_FILE = 'clock.json';

/** The offset kept in `storeDir`, 0 when time was never skipped. A damaged file is an error that says what to do. */
export async function readClockOffset(storeDir: string): Promise<number> {
  const file = path.join(storeDir, CLOCK_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  let offsetMs: unknown;
  try {
    offsetMs = (
      secureJson.parse(text, null, { protoAction: 'remove', constructorAction: 'remove' }) as {
        offsetMs?: unknown;
      }
    )?.offsetMs;
  } catch {
    offsetMs = undefined;
  }
  if (typeof offsetMs !== 'number' || !Number.isFinite(offsetMs) || offsetMs < 0) {
    throw new WfError(
      'CORRUPT',
      `${file} does not hold a clock offset ({"offsetMs": <non-negative number>}). ` +
        'It records how far `wf time skip` moved the dev server clock: fix it, or delete it to go back to real time ' +
        '(histories already recorded keep their times).',
    );
  }
  return offsetMs;
}

/** Writes the offset durably: a temporary file, synced, renamed over the old one, and the directory synced. */
export async function writeClockOffset(storeDir: string, offsetMs: number): Promise<void> {
  const file = path.join(storeDir, CLOCK_FILE);
  const tmp = path.join(storeDir, `${CLOCK_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const text = `${JSON.stringify({ offsetMs, updatedAt: new Date().toISOString() })}\n`;
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
  const dir = await fs.open(storeDir, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** The time control a `wf dev` server offers over its engine, its clock and its store directory. */
export class DevTimeControl implements TimeControl {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly engine: Pick<WorkflowEngine, 'fireTimer' | 'whenRecovered'>,
    private readonly clock: OffsetClock,
    private readonly storeDir: string,
    /** Told after every skip, with the new offset (the live view shows it). */
    private readonly onSkip?: (offsetMs: number) => void,
  ) {}

  async currentTime(): Promise<TimeInfo> {
    return this.info();
  }

  skipTime(ms: number): Promise<TimeInfo> {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
      return Promise.reject(
        new InvalidArgumentError(
          `time can only be skipped forward by a positive duration, e.g. '3 days' or '90m'; got ${JSON.stringify(ms)}`,
        ),
      );
    }
    // One skip at a time: each persists the offset it makes before the clock moves.
    const next = this.queue.then(async () => {
      // Every open run's timers must be armed before time jumps over them.
      await this.engine.whenRecovered();
      const offset = this.clock.offsetMs + ms;
      await writeClockOffset(this.storeDir, offset);
      this.clock.skip(ms);
      this.onSkip?.(this.clock.offsetMs);
      return this.info();
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  fireTimer(ref: RunRef, seq?: number): Promise<FiredTimer> {
    return this.engine.fireTimer(ref, seq);
  }

  private info(): TimeInfo {
    return { now: new Date(this.clock.now()).toISOString(), offsetMs: this.clock.offsetMs };
  }
}
