/**
 * Every non-deterministic global of the sandbox is replaced here, once per vm context. The
 * replacements consult the run being activated (`__wfActive`, set by the host before each call),
 * so one context serves many runs.
 */
import { ACTIVITY_REF } from './activities.js';
import type { SandboxRunApi } from './protocol.js';
import { uuidFrom } from './random.js';

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

  function WorkflowDate(this: unknown, ...args: unknown[]): unknown {
    if (!new.target) return new OriginalDate(now()).toString();
    if (args.length === 0) return Reflect.construct(OriginalDate, [now()], new.target);
    // Year, month, day... are local time on the host: read them as UTC, like every local method here.
    if (args.length >= 2) {
      const utc = (OriginalDate.UTC as (...parts: unknown[]) => number)(...args);
      return Reflect.construct(OriginalDate, [utc], new.target);
    }
    return Reflect.construct(OriginalDate, args, new.target);
  }
  WorkflowDate.prototype = OriginalDate.prototype;
  WorkflowDate.now = now;
  WorkflowDate.parse = OriginalDate.parse;
  WorkflowDate.UTC = OriginalDate.UTC;
  Object.defineProperty(OriginalDate.prototype, 'constructor', {
    value: WorkflowDate,
    writable: true,
    configurable: true,
  });
  g.Date = WorkflowDate as unknown as DateConstructor;
  pinDatesToUtc(OriginalDate.prototype);

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
  for (const name of [
    'setTimeout',
    'setInterval',
    'setImmediate',
    'clearTimeout',
    'clearInterval',
    'clearImmediate',
  ]) {
    Object.defineProperty(g, name, { value: timerError(name), configurable: true, writable: true });
  }
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
      return original.call(this, locales, {
        timeZone: 'UTC',
        ...(options as Intl.DateTimeFormatOptions | undefined),
      });
    });
  }
}
