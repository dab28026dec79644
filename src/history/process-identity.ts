/**
 * Who holds a store's lock, told apart from whoever has the same PID later. A PID alone is not
 * enough: after a kill -9 a restarted `wf dev` in a container is PID 1 again, and on a busy machine
 * the PID of a dead holder may belong to an unrelated live process. So the lock records, besides the
 * PID, the holder's start time as the kernel sees it and a random token of the process:
 *
 * - the token tells this process from a previous incarnation with the same PID;
 * - the boot id tells a holder from before a reboot (Linux: /proc/sys/kernel/random/boot_id);
 * - the start time tells the holder from a later process that was given its PID (Linux:
 *   /proc/<pid>/stat field 22, in clock ticks since boot; elsewhere `ps -o lstart=`, to the second).
 *
 * Where none of these can be read (Windows), a live PID counts as the holder: the lock is refused and
 * the message says how to remove it.
 */

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { StoreLockInfo } from '../common/errors.js';

/** How to read a process's start time; tests pick one. */
export type StartTimeSource = 'proc' | 'ps' | 'none';

/** This process, once: the content of the locks it takes. */
let self: Promise<StoreLockInfo> | undefined;

const TOKEN = randomBytes(12).toString('hex');

function defaultSource(): StartTimeSource {
  if (process.platform === 'linux') return 'proc';
  if (process.platform === 'win32') return 'none';
  return 'ps';
}

/** The start time of a live process, or undefined when it cannot be read (or the process is gone). */
export async function processStartTime(
  pid: number,
  source: StartTimeSource = defaultSource(),
): Promise<string | undefined> {
  if (source === 'proc') {
    const start = (await procStat(pid))?.start;
    return start === undefined ? undefined : `proc:${start}`;
  }
  if (source === 'ps') {
    return new Promise((resolve) => {
      execFile('ps', ['-o', 'lstart=', '-p', String(pid)], { timeout: 5000 }, (error, stdout) => {
        const text = String(stdout).trim().replace(/\s+/g, ' ');
        resolve(error || text === '' ? undefined : `ps:${text}`);
      });
    });
  }
  return undefined;
}

/** A process's state (field 3) and start time (field 22) from /proc/<pid>/stat; undefined when gone. */
async function procStat(pid: number): Promise<{ state: string; start?: string } | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command name, in parentheses) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = fields[19]; // field 22 (starttime); fields[0] is field 3
    return { state: fields[0] ?? '', ...(start && /^\d+$/.test(start) ? { start } : {}) };
  } catch {
    return undefined;
  }
}

async function bootId(): Promise<string | undefined> {
  if (process.platform !== 'linux') return undefined;
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** What this process writes into the locks it takes. */
export function currentProcess(): Promise<StoreLockInfo> {
  self ??= (async () => {
    const [processStart, boot] = await Promise.all([processStartTime(process.pid), bootId()]);
    return {
      pid: process.pid,
      hostname: os.hostname(),
      startedAt: new Date().toISOString(),
      token: TOKEN,
      ...(boot ? { bootId: boot } : {}),
      ...(processStart ? { processStart } : {}),
    };
  })();
  return self;
}

/** Whether the process that wrote a lock still runs, and if not, why we know. */
export type HolderState =
  | { alive: true }
  | { alive: false; reason: string }
  /** On another host: nothing here can tell. */
  | { alive: 'unknown' };

/**
 * Decides whether the holder of a lock still runs, by the rules in the module comment. `source`
 * (tests only) picks how start times are read.
 */
export async function holderState(
  holder: StoreLockInfo,
  source: StartTimeSource = defaultSource(),
): Promise<HolderState> {
  if (holder.hostname !== os.hostname()) return { alive: 'unknown' };
  const me = await currentProcess();
  if (holder.pid === process.pid) {
    // Our PID: either this very process (same token), or an earlier process that had our PID (a
    // container's PID 1 before a restart). We cannot be running twice.
    return holder.token === me.token
      ? { alive: true }
      : { alive: false, reason: 'an earlier process with the same pid, no longer running' };
  }
  if (holder.bootId && me.bootId && holder.bootId !== me.bootId) {
    return { alive: false, reason: 'the machine has restarted since' };
  }
  if (!pidExists(holder.pid)) return { alive: false, reason: 'no longer running' };
  const stat = source === 'proc' ? await procStat(holder.pid) : undefined;
  if (stat && (await exitedUnreaped(holder.pid, stat.state))) {
    // Killed (kill -9), and its parent has not collected its exit status yet: a PID 1 that does not
    // reap (a container's init, some supervisors) can leave it so for ever. It holds nothing.
    return { alive: false, reason: 'no longer running (killed; its parent has not reaped it yet)' };
  }
  if (holder.processStart) {
    const now =
      source === 'proc'
        ? stat?.start === undefined
          ? undefined
          : `proc:${stat.start}`
        : await processStartTime(holder.pid, source);
    if (now === undefined) {
      // Gone since the check above, or its start time cannot be read from here: only the former
      // is certain to be safe.
      return pidExists(holder.pid) ? { alive: true } : { alive: false, reason: 'no longer running' };
    }
    if (now !== holder.processStart && now.split(':')[0] === holder.processStart.split(':')[0]) {
      return { alive: false, reason: 'no longer running (its pid now belongs to another process)' };
    }
  }
  return { alive: true };
}

/**
 * Whether the process has exited and awaits only its reaping: its state is Z (or X) and no thread
 * of it runs (a leader that exited before its other threads shows Z too, while they may still write).
 */
async function exitedUnreaped(pid: number, state: string): Promise<boolean> {
  if (state !== 'Z' && state !== 'X') return false;
  try {
    const threads = /^Threads:\s*(\d+)$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
    return threads === undefined || Number(threads) <= 1;
  } catch {
    return false;
  }
}

/** Whether a process with this pid exists (a zombie included), owned by any user. */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
