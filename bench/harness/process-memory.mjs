import { readdirSync, readFileSync } from 'node:fs';

/** A field of /proc/<pid>/status in kB (VmHWM, VmRSS), or null if the process is gone. */
export function readStatusKb(pid, field) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const m = text.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) : null;
}

/**
 * The pid and all its descendants. /proc/<pid>/task/<tid>/children needs a
 * kernel option that is often off, so this scans the ppid of every process.
 */
export function processTree(rootPid) {
  const parentOf = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(name), Number(fields[1]));
    } catch {
      // exited while we were scanning
    }
  }
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parentOf) if (ppid === tree[i]) tree.push(pid);
  }
  return tree;
}

/**
 * Follows the peak resident memory of a server and the processes it forks
 * (cluster workers, nginx's worker, the C echo's per-connection children).
 * VmHWM only grows, so the last value seen for each pid is its peak, even for
 * children that exit before the run ends; the result is the sum of those peaks.
 */
export class MemorySampler {
  constructor(rootPid, intervalMs = 100) {
    this.rootPid = rootPid;
    this.peaks = new Map();
    this.startRssKb = this.#treeKb('VmRSS');
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  #treeKb(field) {
    let sum = 0;
    for (const pid of processTree(this.rootPid)) sum += readStatusKb(pid, field) ?? 0;
    return sum;
  }

  sample() {
    for (const pid of processTree(this.rootPid)) {
      const hwm = readStatusKb(pid, 'VmHWM');
      if (hwm !== null) this.peaks.set(pid, Math.max(hwm, this.peaks.get(pid) ?? 0));
    }
  }

  /** Stops sampling; figures in MB (10^6 bytes). */
  stop() {
    this.sample();
    clearInterval(this.timer);
    let peakKb = 0;
    for (const kb of this.peaks.values()) peakKb += kb;
    return {
      peakRssMB: (peakKb * 1024) / 1e6,
      rssGrowthMB: ((peakKb - this.startRssKb) * 1024) / 1e6,
      processes: this.peaks.size,
    };
  }
}
