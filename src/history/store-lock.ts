/**
 * The store's exclusive lock: `<store>/LOCK` holds the identity of the process that writes the store
 * (see process-identity.ts). A lock whose holder no longer runs is taken over; taking it over is
 * serialized between processes by `LOCK.takeover`, whose holder is judged by the same rule, so a
 * marker left by a process killed in the middle of a takeover does not block the next start.
 */

import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import secureJson from 'secure-json-parse';
import { StoreLockedError, type StoreLockInfo, WfError } from '../common/errors.js';
import { currentProcess, type HolderState, holderState, pidExists } from './process-identity.js';
import type { StoreFileSystem } from './store-fs.js';

export interface AcquiredLock {
  /** The LOCK file's content, to release only our own lock. */
  raw: string;
  /** Set when the lock of a process that no longer runs was taken over. */
  takenOver?: { previous?: StoreLockInfo; message: string };
}

const ATTEMPTS = 100;
/** A takeover marker nobody can judge (unreadable, or from another host) is abandoned after this. */
const UNJUDGED_MARKER_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Parses the content of LOCK or LOCK.takeover; undefined when it names no process. */
export function parseLockInfo(raw: string): StoreLockInfo | undefined {
  // Takeover markers of earlier versions held the bare pid.
  if (/^\d+\s*$/.test(raw)) {
    const pid = Number(raw);
    return Number.isSafeInteger(pid) && pid > 0 ? { pid, hostname: os.hostname(), startedAt: '' } : undefined;
  }
  try {
    const value = secureJson.parse(raw);
    if (
      typeof value === 'object' &&
      value !== null &&
      Number.isSafeInteger(value.pid) &&
      value.pid > 0 &&
      typeof value.hostname === 'string' &&
      typeof value.startedAt === 'string'
    ) {
      const optional = (name: 'token' | 'bootId' | 'processStart') =>
        typeof value[name] === 'string' ? { [name]: value[name] as string } : {};
      return {
        pid: value.pid,
        hostname: value.hostname,
        startedAt: value.startedAt,
        ...optional('token'),
        ...optional('bootId'),
        ...optional('processStart'),
      };
    }
  } catch {}
  return undefined;
}

async function readText(fs: StoreFileSystem, file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Takes the store's lock, or throws `StoreLockedError` naming the live holder. */
export async function acquireStoreLock(dir: string, fs: StoreFileSystem): Promise<AcquiredLock> {
  const lockFile = path.join(dir, 'LOCK');
  const info: StoreLockInfo = { ...(await currentProcess()), startedAt: new Date().toISOString() };
  const raw = `${JSON.stringify(info)}\n`;
  // The lock (and the takeover marker) appear with their content complete: written to a private
  // file, then linked into place.
  const tmp = path.join(dir, `LOCK.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  await fs.writeFile(tmp, raw);
  let busyMarker: StoreLockInfo | undefined;
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        await fs.link(tmp, lockFile);
        await removeStaleTemporaries(dir, fs);
        return { raw };
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      const seen = await readText(fs, lockFile);
      if (seen === undefined) continue;
      const holder = parseLockInfo(seen);
      let state: HolderState | undefined;
      if (holder) {
        state = await holderState(holder);
        if (state.alive !== false) throw new StoreLockedError(dir, holder, state.alive === true);
      }
      const outcome = await withTakeoverMarker(dir, fs, tmp, async () => {
        if ((await readText(fs, lockFile)) !== seen) return false;
        await fs.rename(tmp, lockFile); // atomic replacement: there is always a LOCK
        return true;
      });
      if (outcome === true) {
        await removeStaleTemporaries(dir, fs);
        return {
          raw,
          takenOver: {
            ...(holder ? { previous: holder } : {}),
            message: holder
              ? `took over the lock of pid ${holder.pid} (started ${holder.startedAt}), which is ${state && state.alive === false ? state.reason : 'no longer running'}`
              : 'took over a lock file whose content was unreadable',
          },
        };
      }
      busyMarker = outcome === false ? undefined : outcome.busy;
    }
    if (busyMarker) {
      throw new WfError(
        'UNAVAILABLE',
        `could not take over the lock of the store ${dir}: process ${busyMarker.pid} has held ${path.join(dir, 'LOCK.takeover')} for seconds. Stop that process; if you are sure no wf process uses this store, remove that file and start again.`,
      );
    }
    throw new WfError(
      'UNAVAILABLE',
      `could not take the lock of the store ${dir}: other processes keep taking it. Stop the other wf processes using this store and start again.`,
    );
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/**
 * Runs `fn` while holding `LOCK.takeover` (made a link of `tmp`, which holds our identity). A marker
 * whose holder no longer runs is set aside; one held by a live process makes us wait and try again
 * (returned as `{ busy }`).
 */
async function withTakeoverMarker(
  dir: string,
  fs: StoreFileSystem,
  tmp: string,
  fn: () => Promise<boolean>,
): Promise<boolean | { busy?: StoreLockInfo }> {
  const marker = path.join(dir, 'LOCK.takeover');
  try {
    await fs.link(tmp, marker);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
    const seen = await readText(fs, marker);
    if (seen === undefined) return {};
    const holder = parseLockInfo(seen);
    const state = holder ? await holderState(holder) : undefined;
    let stale = state?.alive === false;
    if (!state || state.alive === 'unknown') {
      const stat = await fs.stat(marker).catch(() => undefined);
      stale = stat !== undefined && Date.now() - stat.mtimeMs > UNJUDGED_MARKER_MS;
    }
    if (stale) {
      await setAsideStaleMarker(fs, marker, seen);
      return {};
    }
    await sleep(20 + Math.random() * 30);
    return holder ? { busy: holder } : {};
  }
  try {
    return await fn();
  } finally {
    await fs.rm(marker, { force: true });
  }
}

/**
 * Removes a takeover marker left by a dead process. It is renamed aside first and checked: if another
 * process replaced it in between (it found the same stale marker and took its turn), the fresh marker
 * is put back.
 */
async function setAsideStaleMarker(fs: StoreFileSystem, marker: string, staleContent: string): Promise<void> {
  const aside = `${marker}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await fs.rename(marker, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  if ((await readText(fs, aside)) !== staleContent) {
    await fs.link(aside, marker).catch(() => {});
  }
  await fs.rm(aside, { force: true });
}

/** Private files of lock attempts by processes that died before they cleaned up. */
async function removeStaleTemporaries(dir: string, fs: StoreFileSystem): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    if (/^LOCK\.takeover\.[0-9a-f]+\.stale$/.test(name)) {
      // Set aside by a process killed before it removed it (a live one removes it at once).
      const stat = await fs.stat(file).catch(() => undefined);
      if (stat && Date.now() - stat.mtimeMs > UNJUDGED_MARKER_MS)
        await fs.rm(file, { force: true }).catch(() => {});
      continue;
    }
    const pid = Number(/^LOCK\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid === process.pid || pidExists(pid)) continue;
    await fs.rm(file, { force: true }).catch(() => {});
  }
}

/** Removes the lock if it is still ours. */
export async function releaseStoreLock(dir: string, raw: string, fs: StoreFileSystem): Promise<void> {
  const lockFile = path.join(dir, 'LOCK');
  if ((await readText(fs, lockFile)) === raw) await fs.rm(lockFile, { force: true });
}
