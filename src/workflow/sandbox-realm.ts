/**
 * The host lends the sandbox a few stateless web APIs (TextEncoder, structuredClone). What they
 * return is made in the host's realm, where `instanceof Uint8Array` or `instanceof Object` is false
 * for workflow code. These wrappers hand back objects of the sandbox's own realm instead.
 */

type HostEncoder = {
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
};

/** A TextEncoder whose `encode` returns a Uint8Array of this realm. */
export function sandboxTextEncoder(HostTextEncoder: new () => HostEncoder): typeof TextEncoder {
  const host = new HostTextEncoder();
  class WorkflowTextEncoder {
    get encoding(): 'utf-8' {
      return 'utf-8';
    }
    encode(input = ''): Uint8Array {
      return new Uint8Array(host.encode(String(input)));
    }
    encodeInto(source: string, destination: Uint8Array): { read: number; written: number } {
      const { read, written } = host.encodeInto(String(source), destination);
      return { read, written };
    }
  }
  Object.defineProperty(WorkflowTextEncoder, 'name', { value: 'TextEncoder' });
  return WorkflowTextEncoder as unknown as typeof TextEncoder;
}

const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer, offset: number, length: number) => unknown> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

const ERRORS: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

/**
 * structuredClone with this realm's objects: the host's clone decides what may be cloned (and how),
 * then its result is rebuilt here, keeping shared and circular references.
 */
export function sandboxStructuredClone(hostClone: (value: unknown) => unknown): typeof structuredClone {
  return function structuredClone<T>(value: T): T {
    let cloned: unknown;
    try {
      cloned = hostClone(value);
    } catch (error) {
      const failure = new Error((error as Error).message);
      failure.name = (error as Error).name;
      throw failure;
    }
    return toThisRealm(cloned, new Map()) as T;
  } as typeof structuredClone;
}

function toThisRealm(value: unknown, seen: Map<unknown, unknown>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const known = seen.get(value);
  if (known !== undefined) return known;
  const kind = Object.prototype.toString.call(value).slice(8, -1);
  const buffers = (buffer: ArrayBuffer) => {
    const copy = seen.get(buffer) as ArrayBuffer | undefined;
    if (copy) return copy;
    const fresh = new ArrayBuffer(buffer.byteLength);
    new Uint8Array(fresh).set(new Uint8Array(buffer));
    seen.set(buffer, fresh);
    return fresh;
  };
  if (kind === 'Array') {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const [key, item] of Object.entries(value))
      (out as unknown as Record<string, unknown>)[key] = toThisRealm(item, seen);
    out.length = (value as unknown[]).length;
    return out;
  }
  if (kind === 'Date') return remember(seen, value, new Date((value as Date).getTime()));
  if (kind === 'RegExp') {
    const re = value as RegExp;
    return remember(seen, value, new RegExp(re.source, re.flags));
  }
  if (kind === 'Map') {
    const out = remember(seen, value, new Map());
    for (const [k, v] of value as Map<unknown, unknown>) out.set(toThisRealm(k, seen), toThisRealm(v, seen));
    return out;
  }
  if (kind === 'Set') {
    const out = remember(seen, value, new Set());
    for (const v of value as Set<unknown>) out.add(toThisRealm(v, seen));
    return out;
  }
  if (kind === 'ArrayBuffer') return buffers(value as ArrayBuffer);
  if (kind === 'DataView') {
    const view = value as DataView;
    return remember(
      seen,
      value,
      new DataView(buffers(view.buffer as ArrayBuffer), view.byteOffset, view.byteLength),
    );
  }
  const Typed = TYPED_ARRAYS[kind];
  if (Typed) {
    const view = value as unknown as { buffer: ArrayBuffer; byteOffset: number; length: number };
    return remember(seen, value, new Typed(buffers(view.buffer), view.byteOffset, view.length));
  }
  if (kind === 'Error') {
    const error = value as Error;
    const out = new (ERRORS[error.name] ?? Error)(error.message);
    if (!ERRORS[error.name]) out.name = error.name;
    seen.set(value, out);
    if (error.stack !== undefined) out.stack = error.stack;
    if ('cause' in error) out.cause = toThisRealm(error.cause, seen);
    return out;
  }
  if (kind === 'Boolean' || kind === 'Number' || kind === 'String' || kind === 'BigInt') {
    return remember(seen, value, Object((value as { valueOf(): unknown }).valueOf()));
  }
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const [key, item] of Object.entries(value)) out[key] = toThisRealm(item, seen);
  return out;
}

function remember<T>(seen: Map<unknown, unknown>, from: unknown, to: T): T {
  seen.set(from, to);
  return to;
}
