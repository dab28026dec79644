import * as nodeFs from 'node:fs/promises';

/**
 * The file-system calls the file store makes. `node:fs/promises` by default; tests and the torture
 * suite pass a layer that injects faults (a full disk, an I/O error) into chosen calls.
 */
export type StoreFileSystem = Pick<
  typeof nodeFs,
  'copyFile' | 'link' | 'mkdir' | 'open' | 'readdir' | 'readFile' | 'rename' | 'rm' | 'stat' | 'writeFile'
>;

export const nodeFileSystem: StoreFileSystem = nodeFs;
