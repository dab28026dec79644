import { describe, expect, it } from 'vitest';
import { formatDuration } from './format-duration.js';

const SAMPLES = [0, 999, 1000, 1234, 59_999, 60_000, 90_500, 3_599_000, 3_600_000, 93_784_000];

describe('formatDuration', () => {
  it('writes the three largest units by default', () => {
    expect(SAMPLES.map((ms) => formatDuration(ms))).toEqual([
      '0ms',
      '999ms',
      '1s',
      '1s',
      '59s',
      '1m',
      '1m 30s',
      '59m 59s',
      '1h',
      '1d 2h 3m',
    ]);
  });

  it('writes tenths of a second, then fixed-width minutes and seconds, in the clock style', () => {
    expect(SAMPLES.map((ms) => formatDuration(ms, 'clock'))).toEqual([
      '0ms',
      '999ms',
      '1.0s',
      '1.2s',
      '59.9s',
      '1m00s',
      '1m30s',
      '59m59s',
      '1h00m00s',
      '26h03m04s',
    ]);
  });

  it('writes ? for a negative or unknown duration', () => {
    for (const style of ['units', 'clock'] as const) {
      expect(
        [-1, -5000, Number.NaN, Number.POSITIVE_INFINITY].map((ms) => formatDuration(ms, style)),
      ).toEqual(['?', '?', '?', '?']);
    }
  });
});
