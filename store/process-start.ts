/**
 * Which process a pid names: a pid is reused once its process is gone (after a reboot almost
 * certainly), so "is pid N alive" cannot tell that the writer of an episode still runs. The
 * start of the process, stored with its pid, can: a live pid with another start is another
 * process.
 *
 * - Linux: `<boot_id>:<starttime>`, field 22 of /proc/<pid>/stat (clock ticks since boot) and
 *   the kernel's boot id, so the same tick count after a reboot does not match either.
 * - macOS, the BSDs: `ps -o lstart= -p <pid>` (the start time to the second; a pid reused
 *   within the same second is not told apart).
 * - Windows, or when neither answers: undefined — the pid alone decides, as before.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let bootId: string | undefined | null = null;

function linuxBootId(): string | undefined {
  if (bootId === null) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
    } catch {
      bootId = undefined;
    }
  }
  return bootId;
}

/** Field 22 (starttime) of /proc/<pid>/stat; undefined when the process is gone. */
export function linuxStartTicks(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 is the command name in parentheses, which may itself hold spaces and ')': the
  // fields after it start at the last ')'. Field 3 is then the first of them.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = rest[22 - 3];
  return ticks !== undefined && /^\d+$/.test(ticks) ? ticks : undefined;
}

/** A string that names the process running as `pid` now, or undefined when it cannot be known. */
export function processStart(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (process.platform === 'linux') {
    const ticks = linuxStartTicks(pid);
    return ticks === undefined ? undefined : `linux:${linuxBootId() ?? 'unknown-boot'}:${ticks}`;
  }
  if (process.platform === 'win32') return undefined;
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return out ? `ps:${out}` : undefined;
  } catch {
    return undefined;
  }
}
