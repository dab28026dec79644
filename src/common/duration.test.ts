import { describe, expect, it } from 'vitest';
import { MAX_DURATION_MS, parseDuration, toMs } from './duration.js';
import { InvalidArgumentError } from './errors.js';

describe('durations', () => {
  it('accepts up to 100 years', () => {
    expect(MAX_DURATION_MS).toBe(3_155_760_000_000);
    expect(toMs(MAX_DURATION_MS)).toBe(MAX_DURATION_MS);
    expect(toMs('100 years')).toBeLessThanOrEqual(MAX_DURATION_MS);
    expect(toMs('30s')).toBe(30_000);
  });

  it('refuses longer ones with a TypeError naming the option, so a Date can always hold the deadline', () => {
    for (const huge of [1e16, '1000000 years', MAX_DURATION_MS + 1, Number.MAX_VALUE]) {
      expect(() => toMs(huge, 'sleep duration')).toThrow(TypeError);
      expect(() => toMs(huge, 'sleep duration')).toThrow(
        /^sleep duration is too long: .* is more than 100 years \(3155760000000 ms\), the longest duration wf accepts$/,
      );
    }
    expect(() => parseDuration('1000000 years', '--run-timeout')).toThrow(InvalidArgumentError);
  });
});
