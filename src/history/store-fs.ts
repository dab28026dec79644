import { readFileSync, type Stats, statSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as nodeFs from 'node:fs/promises';

/**
 * The file-system calls the file store makes. `node:fs/promises` by default; tests and the torture
 * suite pass a layer that injects faults (a full disk, an I/O error) into chosen calls.
 */
export type StoreFileSystem = Pick<
  typeof nodeFs,
  'copyFile' | 'link' | 'mkdir' | 'open' | 'readdir' | 'readFile' | 'rename' | 'rm' | 'stat' | 'writeFile'
> & {
  /**
   * Writes to an open file on the calling thread and returns the bytes written. The group commit
   * writes its run files this way: they are not synced there (the write-ahead log is), so the
   * write only copies into the page cache, quicker than a round trip through libuv's thread pool.
   */
  writeSync(handle: FileHandle, data: Buffer, offset: number, length: number): number;
  /**
   * readFile() and stat() on the calling thread, for small files read by the thousand (the open
   * runs at start-up and recovery): a round trip through libuv's thread pool per call costs more
   * than the call itself. Faults meant for readFile and stat apply to them too.
   */
  readFileSync(file: string): Buffer;
  statSync(file: string): Stats;
};

export const nodeFileSystem: StoreFileSystem = {
  copyFile: nodeFs.copyFile,
  link: nodeFs.link,
  mkdir: nodeFs.mkdir,
  open: nodeFs.open,
  readdir: nodeFs.readdir,
  readFile: nodeFs.readFile,
  rename: nodeFs.rename,
  rm: nodeFs.rm,
  stat: nodeFs.stat,
  writeFile: nodeFs.writeFile,
  writeSync: (handle, data, offset, length) => writeSync(handle.fd, data, offset, length),
  readFileSync: (file) => readFileSync(file),
  statSync: (file) => statSync(file),
};
