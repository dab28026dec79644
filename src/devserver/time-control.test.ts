import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OffsetClock } from '../runtime/clock.js';
import { CLOCK_FILE, DevTimeControl, readClockOffset } from './time-control.js';

const dirs: string[] = [];
async function storeDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wf-clock-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const noTimers = {
  fireTimer: () => Promise.reject(new Error('not used')),
  whenRecovered: () => Promise.resolve(),
};

describe('DevTimeControl', () => {
  it('persists each skip before the clock moves, so a new clock starts where the old one was', async () => {
    const dir = await storeDir();
    expect(await readClockOffset(dir)).toBe(0);
    const clock = new OffsetClock(await readClockOffset(dir));
    const seen: number[] = [];
    const control = new DevTimeControl(noTimers, clock, dir, (offset) => seen.push(offset));
    await Promise.all([control.skipTime(3_600_000), control.skipTime(86_400_000)]);
    expect(clock.offsetMs).toBe(90_000_000);
    expect(seen).toEqual([3_600_000, 90_000_000]);
    expect(await readClockOffset(dir)).toBe(90_000_000);
    expect((await control.currentTime()).offsetMs).toBe(90_000_000);
  });

  it('refuses a skip that is not forward', async () => {
    const control = new DevTimeControl(noTimers, new OffsetClock(), await storeDir());
    await expect(control.skipTime(0)).rejects.toThrow(/positive duration/);
    await expect(control.skipTime(-5)).rejects.toThrow(/positive duration/);
  });

  it('reports a damaged clock file with its path and what to do', async () => {
    const dir = await storeDir();
    await writeFile(path.join(dir, CLOCK_FILE), '{"offsetMs": "soon"}');
    await expect(readClockOffset(dir)).rejects.toThrow(
      /clock\.json does not hold a clock offset.*delete it/s,
    );
    expect(await readFile(path.join(dir, CLOCK_FILE), 'utf8')).toBe('{"offsetMs": "soon"}');
  });
});
