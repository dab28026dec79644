import { StoreEnvironmentError } from '../common/errors.js';

/** System errors that come from the machine a store is on, with what they mean and what to do. */
const ENVIRONMENT: Record<string, { meaning: string; advice: string }> = {
  ENOSPC: {
    meaning: 'the disk is full',
    advice:
      'free some space on that disk (or use --store to put the store on another disk), then start again',
  },
  EDQUOT: {
    meaning: "this user's disk quota is used up",
    advice:
      'free some space or ask for a larger quota (or use --store to put the store elsewhere), then start again',
  },
  EACCES: {
    meaning: 'permission denied',
    advice:
      'give this user read and write access to the store directory and every file in it (check owners and modes with `ls -la`), or use --store to pick a directory you own',
  },
  EPERM: {
    meaning: 'the operation is not permitted',
    advice:
      'check the owner, mode and attributes (`lsattr`) of the store directory and its files, or use --store to pick a directory you own',
  },
  EROFS: {
    meaning: 'the file system is read-only',
    advice:
      'mount it read-write, or use --store to pick a writable directory (`wf replay` reads a store without writing to it)',
  },
  EIO: {
    meaning: 'the disk reported an I/O error',
    advice:
      'the disk or file system may be failing: check the system log (dmesg), copy the store to a healthy disk and use --store there',
  },
  EMFILE: {
    meaning: 'this process has too many open files',
    advice: 'raise the limit of open files (`ulimit -n`), then start again',
  },
  ENFILE: {
    meaning: 'the system has too many open files',
    advice: 'close other programs or raise the system limit of open files, then start again',
  },
  ENOTDIR: {
    meaning: 'a part of the path is a file, not a directory',
    advice: 'move that file out of the way, or use --store to pick another directory',
  },
  EISDIR: {
    meaning: 'a directory is where a file should be',
    advice: 'move that directory out of the way, or use --store to pick another directory',
  },
  EEXIST: {
    meaning: 'a file is where a directory should be',
    advice: 'move that file out of the way, or use --store to pick another directory',
  },
  ENAMETOOLONG: {
    meaning: 'the path is too long',
    advice: 'use --store with a shorter path',
  },
  ELOOP: {
    meaning: 'the path has a loop of symbolic links',
    advice: 'fix the symbolic links, or use --store to pick another directory',
  },
  EFBIG: {
    meaning: 'a file grew past the largest size this file system allows',
    advice: 'move the store to a file system that allows larger files',
  },
};

/**
 * Turns a system error from the machine (see ENVIRONMENT) into a `StoreEnvironmentError` that says
 * what failed, where, and what to do; undefined for anything else (which stays a bug report).
 */
export function environmentError(error: unknown, doing: string): StoreEnvironmentError | undefined {
  const e = error as NodeJS.ErrnoException | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const known = code ? ENVIRONMENT[code] : undefined;
  if (!known || !code) return undefined;
  const dest = (e as { dest?: unknown }).dest;
  const where = e?.path ? ` ${e.path}${typeof dest === 'string' ? ` -> ${dest}` : ''}` : '';
  const call = e?.syscall ? `${e.syscall}${where}` : `an operation${where}`;
  return new StoreEnvironmentError(
    `${doing}: ${call} failed with ${code} (${known.meaning}). This is a problem of the machine, not of wf: ${known.advice}.`,
    code,
    e?.path,
    { cause: error },
  );
}
