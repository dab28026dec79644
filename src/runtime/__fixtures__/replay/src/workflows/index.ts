import { defineQuery, defineSignal, defineUpdate, setHandler, sleep, uuid4 } from 'wfkit/workflow';

export const go = defineSignal<[string]>('go');
export const draw = defineQuery<number>('draw');
export const drawUuid = defineQuery<string>('drawUuid');
export const bump = defineUpdate<number, [number]>('bump');

/**
 * Returns at once, while a coroutine it started issues a timer two ticks later: histories order
 * that timer before the completion.
 */
export async function lateTimer(): Promise<string> {
  const background = async () => {
    await Promise.resolve();
    await Promise.resolve();
    await sleep('1 minute');
  };
  void background();
  return 'done';
}

/** Records when a signal sent with the start is handled, against the function's body and first await. */
export async function startOrder(): Promise<string[]> {
  const seen: string[] = [];
  setHandler(go, (value) => {
    seen.push(`signal ${value}`);
  });
  seen.push('body');
  await Promise.resolve();
  seen.push('after first await');
  return seen;
}

/**
 * Draws from the run's randomness after each timer; its query and update validator draw too (which
 * must not move the run's sequence).
 */
export async function draws(): Promise<number[]> {
  const drawn: number[] = [];
  let total = 0;
  setHandler(draw, () => Math.random());
  setHandler(drawUuid, () => `${uuid4()} ${crypto.randomUUID()}`);
  setHandler(bump, (by) => (total += by), {
    validator: (by) => {
      if (Math.random() > 2 || crypto.getRandomValues(new Uint8Array(4)).length !== 4 || by < 0)
        throw new Error('never');
    },
  });
  for (let i = 0; i < 2; i++) {
    await sleep('1 minute');
    drawn.push(Math.random());
  }
  return drawn;
}

/** Readings that follow the host's time zone and locale outside the sandbox, and realm checks. */
export async function hostIndependent(): Promise<Record<string, unknown>> {
  const epoch = new Date(0);
  const cloned = structuredClone({
    list: [1],
    at: epoch,
    map: new Map([[1, 2]]),
    bytes: new Uint8Array([7]),
  });
  return {
    parsedLocal: Date.parse('2026-01-01T10:00:00'),
    constructedLocal: new Date('2026-01-01T10:00:00').getTime(),
    parsedLegacy: Date.parse('Jan 1 2026 10:00'),
    parsedSlashes: Date.parse('2026/01/01'),
    parsedOffset: Date.parse('2026-01-01T10:00:00+01:00'),
    parsedZulu: Date.parse('2026-01-01T10:00:00Z'),
    parsedGmt: Date.parse('Thu Jan 01 2026 10:00:00 GMT+0900 (Japan Standard Time)'),
    parsedDateOnly: Date.parse('2026-01-01'),
    invalid: Number.isNaN(Date.parse('not a date')),
    dateFormat: new Intl.DateTimeFormat().format(epoch),
    dateTimeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    dateLocale: new Intl.DateTimeFormat().resolvedOptions().locale,
    explicitZone: new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Tokyo', hour: 'numeric' }).format(epoch),
    number: new Intl.NumberFormat().format(1234.5),
    numberLocale: (1234.5).toLocaleString(),
    explicitLocale: (1234.5).toLocaleString('de-DE'),
    collatorLocale: new Intl.Collator().resolvedOptions().locale,
    compare: 'a'.localeCompare('b'),
    dateLocaleString: epoch.toLocaleString(),
    arrayLocaleString: [1234.5, epoch].toLocaleString(),
    encodedIsUint8Array: new TextEncoder().encode('hé') instanceof Uint8Array,
    encodedBytes: Array.from(new TextEncoder().encode('hé')),
    cloneIsObject: cloned instanceof Object && Object.getPrototypeOf(cloned) === Object.prototype,
    cloneParts: [
      // biome-ignore lint/suspicious/useIsArray: the point is that the clone is an Array of this realm
      cloned.list instanceof Array,
      cloned.at instanceof Date,
      cloned.map instanceof Map,
      cloned.bytes instanceof Uint8Array,
      cloned.at.getTime(),
      cloned.map.get(1),
      cloned.bytes[0],
    ],
  };
}
