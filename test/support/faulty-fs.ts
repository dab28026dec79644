/**
 * A file-system layer for the file store that fails chosen calls the way the kernel does (a full disk,
 * an I/O error, a refused permission), for tests and the torture suite. Everything else goes to
 * node:fs/promises.
 */
import type { FileHandle } from 'node:fs/promises';
import { nodeFileSystem as real, type StoreFileSystem } from '../../src/history/store-fs.js';

/** The calls a fault can hit: the store's fs calls, and writes and syncs on an open file. */
export type FaultableCall = keyof StoreFileSystem | 'handle.write' | 'handle.sync' | 'handle.truncate';

export interface Fault {
  call: FaultableCall;
  code: 'ENOSPC' | 'EIO' | 'EACCES' | 'EROFS' | 'EDQUOT' | 'EMFILE';
  /** Only paths for which this returns true (default: every path). */
  path?: (file: string) => boolean;
  /** Fail only this many times (default: until healed). */
  times?: number;
  /** `handle.write` and `copyFile` only: write the first half of the data, then fail (a torn write). */
  partial?: boolean;
}

const DESCRIPTIONS: Record<Fault['code'], string> = {
  ENOSPC: 'no space left on device',
  EIO: 'i/o error',
  EACCES: 'permission denied',
  EROFS: 'read-only file system',
  EDQUOT: 'disk quota exceeded',
  EMFILE: 'too many open files',
};

const ERRNO: Record<Fault['code'], number> = {
  ENOSPC: -28,
  EIO: -5,
  EACCES: -13,
  EROFS: -30,
  EDQUOT: -122,
  EMFILE: -24,
};

/** An error shaped as Node shapes errors of system calls. */
export function systemError(
  code: Fault['code'],
  syscall: string,
  file: string,
  dest?: string,
): NodeJS.ErrnoException {
  const where = dest === undefined ? `'${file}'` : `'${file}' -> '${dest}'`;
  return Object.assign(new Error(`${code}: ${DESCRIPTIONS[code]}, ${syscall} ${where}`), {
    code,
    errno: ERRNO[code],
    syscall,
    path: file,
    ...(dest === undefined ? {} : { dest }),
  });
}

export class FaultyFileSystem {
  private faults: Fault[] = [];
  /** Calls that failed because of a fault, in order. */
  readonly failed: { call: FaultableCall; path: string; code: string }[] = [];
  readonly fs: StoreFileSystem;

  constructor() {
    const wrap =
      <K extends keyof StoreFileSystem>(name: K) =>
      async (...args: unknown[]) => {
        const dest =
          name === 'copyFile' || name === 'link' || name === 'rename' ? String(args[1]) : undefined;
        const fault = this.take(name, String(args[0]));
        if (fault) {
          if (fault.partial && name === 'copyFile' && dest !== undefined) {
            // The copy stops half-way: the destination exists, holding half the source.
            await real.copyFile(String(args[0]), dest);
            const size = (await real.stat(dest)).size;
            const handle = await real.open(dest, 'r+');
            await handle.truncate(Math.floor(size / 2)).finally(() => handle.close());
          }
          throw systemError(fault.code, name.toLowerCase(), String(args[0]), dest);
        }
        return (real[name] as (...a: unknown[]) => Promise<unknown>)(...args);
      };
    const names: (keyof StoreFileSystem)[] = [
      'copyFile',
      'link',
      'mkdir',
      'readdir',
      'readFile',
      'rename',
      'rm',
      'stat',
      'writeFile',
    ];
    const fs = Object.fromEntries(names.map((n) => [n, wrap(n)])) as unknown as StoreFileSystem;
    fs.open = (async (file: string, ...rest: unknown[]) => {
      this.check('open', String(file));
      const handle = await (real.open as (...a: unknown[]) => Promise<FileHandle>)(file, ...rest);
      return this.wrapHandle(handle, String(file));
    }) as StoreFileSystem['open'];
    fs.readFileSync = (file) => {
      this.check('readFile', String(file));
      return real.readFileSync(file);
    };
    fs.statSync = (file) => {
      this.check('stat', String(file));
      return real.statSync(file);
    };
    fs.writeSync = (handle, data, offset, length) => {
      const file = this.files.get(handle) ?? '';
      const fault = this.take('handle.write', file);
      if (fault) {
        if (fault.partial) real.writeSync(handle, data, offset, Math.floor(length / 2));
        throw systemError(fault.code, 'write', file);
      }
      return real.writeSync(handle, data, offset, length);
    };
    this.fs = fs;
  }

  /** Adds a fault; it applies to calls from now on. */
  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  /** Removes every fault: the disk has room again. */
  heal(): void {
    this.faults = [];
  }

  private check(call: FaultableCall, file: string, dest?: string): void {
    const fault = this.take(call, file);
    if (fault) throw systemError(fault.code, call.replace('handle.', '').toLowerCase(), file, dest);
  }

  private take(call: FaultableCall, file: string): Fault | undefined {
    const fault = this.faults.find((f) => f.call === call && (!f.path || f.path(file)));
    if (!fault) return undefined;
    if (fault.times !== undefined && --fault.times <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
    this.failed.push({ call, path: file, code: fault.code });
    return fault;
  }

  /** The file each handle this layer opened writes to. */
  private readonly files = new WeakMap<FileHandle, string>();

  private wrapHandle(handle: FileHandle, file: string): FileHandle {
    const intercepted: Partial<Record<string | symbol, FaultableCall>> = {
      write: 'handle.write',
      writeFile: 'handle.write',
      datasync: 'handle.sync',
      sync: 'handle.sync',
      truncate: 'handle.truncate',
    };
    const wrapped = new Proxy(handle, {
      get: (target, prop) => {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        const call = intercepted[prop];
        return async (...args: unknown[]) => {
          const fault = call ? this.take(call, file) : undefined;
          if (fault) {
            if (fault.partial && prop === 'write' && Buffer.isBuffer(args[0])) {
              const [data, offset = 0, length = (args[0] as Buffer).length] = args as [
                Buffer,
                number?,
                number?,
              ];
              await target.write(data, offset, Math.floor(length / 2));
            }
            throw systemError(fault.code, String(prop).toLowerCase(), file);
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    this.files.set(wrapped, file);
    return wrapped;
  }
}
