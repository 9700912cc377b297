// What the kernel knows about our UDP sockets and Node cannot tell: datagrams dropped because the
// receive queue was full (a flood beyond what one event loop answers), and how full it is now.
// Linux only (/proc); read at scrape time, never on the query path.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface UdpKernelStats {
  /** Datagrams the kernel dropped on our sockets since they were bound. */
  readonly drops: number;
  /** Bytes waiting in our sockets' receive queues right now. */
  readonly queuedBytes: number;
}

/** Inodes of this process's sockets, from /proc/self/fd (`socket:[12345]`). */
function ownSocketInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed since the listing
    }
    if (target.startsWith('socket:[')) inodes.add(target.slice(8, -1));
  }
  return inodes;
}

/**
 * Sums the kernel's drop and queue figures over this process's UDP sockets bound to `ports`;
 * null where /proc is not there to ask.
 */
export function udpKernelStats(ports: ReadonlySet<number>): UdpKernelStats | null {
  let inodes: Set<string>;
  try {
    inodes = ownSocketInodes();
  } catch {
    return null;
  }
  let drops = 0;
  let queuedBytes = 0;
  let found = false;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
      const f = line.trim().split(/\s+/);
      if (f.length < 13) continue;
      const port = Number.parseInt(f[1]!.slice(f[1]!.lastIndexOf(':') + 1), 16);
      if (!ports.has(port) || !inodes.has(f[9]!)) continue;
      found = true;
      queuedBytes += Number.parseInt(f[4]!.split(':')[1] ?? '0', 16);
      drops += Number(f[12]);
    }
  }
  return found ? { drops, queuedBytes } : null;
}
