/**
 * Every non-deterministic global of the sandbox is replaced here, once per vm context. The
 * replacements consult the run being activated (`__wfActive`, set by the host before each call),
 * so one context serves many runs.
 */
import { ACTIVITY_REF } from './activities.js';
import type { SandboxRunApi } from './protocol.js';
import { uuidFrom } from './random.js';
import { sandboxStructuredClone, sandboxTextEncoder } from './sandbox-realm.js';

/** The locale of every Intl default in the sandbox: the host's would differ between machines. */
export const WORKFLOW_LOCALE = 'en-US';

interface ContextGlobals {
  __wfActive?: SandboxRunApi;
  __wfActivityRef?: (name: string) => unknown;
}

function notInWorkflows(what: string, why: string, instead: string): Error {
  return new Error(`${what} cannot be used in workflow code because ${why}. ${instead}`);
}

export function installGlobalOverrides(g: typeof globalThis & ContextGlobals): void {
  const OriginalDate = g.Date;
  const active = () => g.__wfActive;
  const now = () => active()?.now() ?? 0;
  const parseAsUtc = utcDateParser(OriginalDate);

  function WorkflowDate(this: unknown, ...args: unknown[]): unknown {
    if (!new.target) return new OriginalDate(now()).toString();
    if (args.length === 0) return Reflect.construct(OriginalDate, [now()], new.target);
    // Year, month, day... are local time on the host: read them as UTC, like every local method here.
    if (args.length >= 2) {
      const utc = (OriginalDate.UTC as (...parts: unknown[]) => number)(...args);
      return Reflect.construct(OriginalDate, [utc], new.target);
    }
    // A string without an offset is local time on the host: read it as UTC too.
    if (typeof args[0] === 'string')
      return Reflect.construct(OriginalDate, [parseAsUtc(args[0])], new.target);
    return Reflect.construct(OriginalDate, args, new.target);
  }
  WorkflowDate.prototype = OriginalDate.prototype;
  WorkflowDate.now = now;
  WorkflowDate.parse = (text: string) => parseAsUtc(String(text));
  WorkflowDate.UTC = OriginalDate.UTC;
  Object.defineProperty(OriginalDate.prototype, 'constructor', {
    value: WorkflowDate,
    writable: true,
    configurable: true,
  });
  g.Date = WorkflowDate as unknown as DateConstructor;
  pinDatesToUtc(OriginalDate.prototype);
  pinIntlDefaults(g);
  // What the host lends would come back as host-realm objects: rebuild them in this realm.
  if (g.TextEncoder) {
    Object.defineProperty(g, 'TextEncoder', {
      value: sandboxTextEncoder(g.TextEncoder as never),
      configurable: true,
      writable: true,
    });
  }
  if (g.structuredClone) {
    Object.defineProperty(g, 'structuredClone', {
      value: sandboxStructuredClone(g.structuredClone),
      configurable: true,
      writable: true,
    });
  }

  const random = () => {
    const run = active();
    if (!run)
      throw notInWorkflows(
        'Math.random at module load',
        'no run is active yet',
        'Call it inside the workflow function.',
      );
    return run.random();
  };
  // crypto.randomUUID and getRandomValues draw from the run's seeded generator, like Math.random.
  Object.defineProperty(g, 'crypto', {
    value: {
      randomUUID: () => uuidFrom(random),
      getRandomValues<T extends ArrayBufferView | null>(array: T): T {
        if (!array) return array;
        const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
        for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
        return array;
      },
      get subtle(): never {
        throw notInWorkflows(
          'crypto.subtle',
          'it is asynchronous host cryptography',
          'Hash and sign in an activity.',
        );
      },
    },
    configurable: true,
  });
  g.Math.random = () => {
    return random();
  };

  const timerError = (name: string) => () => {
    throw notInWorkflows(
      name,
      'timers in workflows must be durable',
      "Use sleep() or condition(fn, timeout) from 'wfkit/workflow' instead.",
    );
  };
  for (const name of ['setInterval', 'setImmediate', 'clearInterval', 'clearImmediate']) {
    Object.defineProperty(g, name, { value: timerError(name), configurable: true, writable: true });
  }
  // As in Temporal, setTimeout and clearTimeout start and cancel durable timers of the run.
  Object.defineProperty(g, 'setTimeout', {
    value: (callback: unknown, ms?: unknown, ...args: unknown[]) => {
      const run = active();
      if (!run)
        throw notInWorkflows(
          'setTimeout at module load',
          'no run is active yet',
          'Call it inside the workflow function.',
        );
      if (typeof callback !== 'function') {
        throw new TypeError('setTimeout in workflow code needs a function (a string of code is not run)');
      }
      return run.setTimeout(callback as (...a: unknown[]) => void, Number(ms ?? 0), args);
    },
    configurable: true,
    writable: true,
  });
  Object.defineProperty(g, 'clearTimeout', {
    value: (handle: unknown) => {
      const run = active();
      if (run && typeof handle === 'number') run.clearTimeout(handle);
    },
    configurable: true,
    writable: true,
  });
  Object.defineProperty(g, 'fetch', {
    value: () => {
      throw notInWorkflows(
        'fetch',
        'network calls are not deterministic',
        'Call the service from an activity instead.',
      );
    },
    configurable: true,
  });
  Object.defineProperty(g, 'require', {
    value: (id: string) => {
      throw notInWorkflows(
        `require(${JSON.stringify(id)})`,
        'workflow code is bundled ahead of time',
        'Use a static import; Node built-ins belong in activities.',
      );
    },
    configurable: true,
  });
  const processProxy = new Proxy(
    {},
    {
      get(_t, key) {
        if (key === Symbol.toPrimitive || key === 'toString')
          return () => '[process unavailable in workflows]';
        throw notInWorkflows(
          `process.${String(key)}`,
          'it reads the host environment, which differs between runs and replays',
          'Pass configuration as workflow arguments, or read it in an activity.',
        );
      },
    },
  );
  Object.defineProperty(g, 'process', { value: processProxy, configurable: true });
  for (const name of ['WeakRef', 'FinalizationRegistry'] as const) {
    const original = g[name];
    if (!original) continue;
    Object.defineProperty(g, name, {
      value: function unavailable() {
        throw notInWorkflows(
          name,
          'garbage collection timing is not deterministic',
          'Use ordinary references instead.',
        );
      },
      configurable: true,
    });
  }
  g.__wfActivityRef = (name: string) => {
    const ref = () => {
      throw new Error(
        `activity ${name} was called directly in workflow code: call it through proxyActivities() or executeActivity(${name}, ...args)`,
      );
    };
    Object.defineProperty(ref, 'name', { value: name });
    Object.defineProperty(ref, ACTIVITY_REF, { value: name });
    return ref;
  };
}

/**
 * The host's time zone differs between the machine that recorded a history and the one replaying it
 * (a laptop, CI), so local-time methods would branch differently on replay. In the sandbox, local
 * time is UTC: this realm's Date.prototype only, the host's Date is untouched.
 */
function pinDatesToUtc(proto: Date): void {
  const p = proto as unknown as Record<string, unknown>;
  const utc = (name: string) => p[name.replace(/^(get|set)/, '$1UTC')];
  for (const name of [
    'getFullYear',
    'getMonth',
    'getDate',
    'getDay',
    'getHours',
    'getMinutes',
    'getSeconds',
    'getMilliseconds',
    'setFullYear',
    'setMonth',
    'setDate',
    'setHours',
    'setMinutes',
    'setSeconds',
    'setMilliseconds',
  ]) {
    Object.defineProperty(proto, name, { value: utc(name), configurable: true, writable: true });
  }
  const define = (name: string, value: (this: Date, ...args: unknown[]) => unknown) =>
    Object.defineProperty(proto, name, { value, configurable: true, writable: true });
  define('getTimezoneOffset', () => 0);
  const toUTCString = p.toUTCString as (this: Date) => string;
  const toISOString = p.toISOString as (this: Date) => string;
  define('toString', function (this: Date) {
    return Number.isNaN(this.getTime())
      ? 'Invalid Date'
      : `${toUTCString.call(this).replace(' GMT', '')} GMT+0000 (UTC)`;
  });
  define('toTimeString', function (this: Date) {
    return Number.isNaN(this.getTime())
      ? 'Invalid Date'
      : `${toISOString.call(this).slice(11, 19)} GMT+0000 (UTC)`;
  });
  define('toDateString', function (this: Date) {
    return Number.isNaN(this.getTime())
      ? 'Invalid Date'
      : toUTCString.call(this).slice(0, 16).replace(',', '');
  });
  for (const name of ['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString']) {
    const original = p[name] as (
      this: Date,
      locales?: unknown,
      options?: Intl.DateTimeFormatOptions,
    ) => string;
    define(name, function (this: Date, locales?: unknown, options?: unknown) {
      return original.call(this, localesOrDefault(locales), inUtc(options));
    });
  }
}

/**
 * Date.parse and `new Date(string)` read a string without an offset ("2026-01-01T10:00",
 * "Jan 1 2026") as local time on the host. In the sandbox they read it as UTC, like every local
 * reading here; a string with an offset (Z, +01:00, GMT+0100, EST) keeps it, and an ISO date
 * alone ("2026-01-01") is UTC already.
 */
function utcDateParser(OriginalDate: DateConstructor): (text: string) => number {
  const proto = OriginalDate.prototype;
  // Captured before pinDatesToUtc replaces them: the host's local reading of an instant.
  const local = [
    proto.getFullYear,
    proto.getMonth,
    proto.getDate,
    proto.getHours,
    proto.getMinutes,
    proto.getSeconds,
    proto.getMilliseconds,
  ];
  const isoDateOnly = /^[+-]?\d{4,6}(?:-\d{2}(?:-\d{2})?)?$/;
  // A numeric offset after a time (10:00Z, 10:00:00.5+01:00, 10:00 -0500), or a zone name.
  const hasOffset =
    /\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:z|[+-]\d{2}(?::?\d{2})?)|\b(?:gmt|utc|ut|z|[ecmp][sd]t)\b/i;
  /(?:\d(?:z|[+-]\d{2}(?::?\d{2})?)|\b(?:gmt|utc|ut|z|[ecmp][sd]t)(?:[+-]\d{1,4}(?::?\d{2})?)?)\s*(?:\([^)]*\))?\s*$/i;
  return (text: string) => {
    const parsed = OriginalDate.parse(text);
    if (Number.isNaN(parsed)) return parsed;
    const trimmed = text.trim();
    if (isoDateOnly.test(trimmed) || hasOffset.test(trimmed)) return parsed;
    const at = new OriginalDate(parsed);
    const [year, month, day, hours, minutes, seconds, ms] = local.map((get) => get.call(at)) as number[];
    const utc = new OriginalDate(0);
    utc.setUTCFullYear(year!, month!, day!);
    utc.setUTCHours(hours!, minutes!, seconds!, ms!);
    return utc.getTime();
  };
}

function localesOrDefault(locales: unknown): unknown {
  if (locales === undefined || (Array.isArray(locales) && locales.length === 0)) return WORKFLOW_LOCALE;
  return locales;
}

function inUtc(options: unknown): Intl.DateTimeFormatOptions {
  const given = (options ?? {}) as Intl.DateTimeFormatOptions;
  return { ...given, timeZone: given.timeZone ?? 'UTC' };
}

/**
 * Intl's defaults (locale, and for dates the time zone) are the host's. In the sandbox the locale
 * defaults to en-US and dates to UTC: Intl constructors, and the toLocale* / localeCompare methods
 * that use them. An explicit locale or time zone is kept.
 */
function pinIntlDefaults(g: typeof globalThis): void {
  const intl = g.Intl as unknown as Record<string, unknown>;
  const wrap = (name: string, fixOptions: (options: unknown) => unknown) => {
    const Original = intl[name] as (new (...args: unknown[]) => object) & Record<string, unknown>;
    if (typeof Original !== 'function') return;
    const Wrapped = function (this: unknown, locales?: unknown, options?: unknown) {
      return Reflect.construct(
        Original,
        [localesOrDefault(locales), fixOptions(options)],
        new.target ?? Original,
      );
    } as unknown as Record<string, unknown>;
    Wrapped.prototype = Original.prototype;
    Object.defineProperty(Wrapped, 'name', { value: name });
    Object.defineProperty(Wrapped, 'supportedLocalesOf', {
      value: (Original.supportedLocalesOf as (...args: unknown[]) => unknown).bind(Original),
      configurable: true,
      writable: true,
    });
    Object.defineProperty(intl, name, { value: Wrapped, configurable: true, writable: true });
  };
  wrap('DateTimeFormat', inUtc);
  for (const name of [
    'NumberFormat',
    'Collator',
    'PluralRules',
    'RelativeTimeFormat',
    'ListFormat',
    'Segmenter',
  ]) {
    wrap(name, (options) => options);
  }
  const onPrototype = (proto: object, name: string, localesAt: number) => {
    const original = (proto as Record<string, (...args: unknown[]) => unknown>)[name];
    if (typeof original !== 'function') return;
    Object.defineProperty(proto, name, {
      value: function (this: unknown, ...args: unknown[]) {
        args[localesAt] = localesOrDefault(args[localesAt]);
        return original.apply(this, args);
      },
      configurable: true,
      writable: true,
    });
  };
  onPrototype(g.Number.prototype, 'toLocaleString', 0);
  onPrototype(g.BigInt.prototype, 'toLocaleString', 0);
  onPrototype(g.String.prototype, 'localeCompare', 1);
  onPrototype(g.String.prototype, 'toLocaleUpperCase', 0);
  onPrototype(g.String.prototype, 'toLocaleLowerCase', 0);
}
