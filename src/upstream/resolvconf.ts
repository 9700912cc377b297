// /etc/resolv.conf as the resolver library reads it: the node's nameservers are cluster-dns's
// default upstreams (CoreDNS's `forward . /etc/resolv.conf`), with the pod's DNS policy Default.
import { isIP } from 'node:net';

export interface ResolvConf {
  readonly nameservers: readonly string[];
  readonly search: readonly string[];
  readonly ndots: number;
}

export function parseResolvConf(text: string): ResolvConf {
  const nameservers: string[] = [];
  let search: string[] = [];
  let ndots = 1;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (line === '') continue;
    const [keyword, ...args] = line.split(/\s+/);
    switch (keyword) {
      case 'nameserver': {
        // A scoped IPv6 address (fe80::1%eth0) cannot be an upstream we bind to portably.
        const ip = args[0];
        // (node's isIP accepts the %zone suffix, so it is checked apart.)
        if (ip && !ip.includes('%') && isIP(ip) !== 0) nameservers.push(ip);
        break;
      }
      case 'search':
      case 'domain':
        search = args.map((d) => d.toLowerCase().replace(/\.$/, '')).filter((d) => d !== '');
        break;
      case 'options':
        for (const option of args) {
          const m = /^ndots:(\d+)$/.exec(option);
          if (m) ndots = Math.min(15, Number(m[1]));
        }
        break;
    }
  }
  return { nameservers, search, ndots };
}
