// A listening address that could not be bound, in one line naming the flag and what to do.
// Shared by the DNS listeners (server/listen.ts) and the HTTP endpoints (observe/health.ts).
import { ClusterDnsError } from '../base/errors.ts';

export interface BoundAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * An address that could not be bound, named as the flags take it, with the reason in words and,
 * for a privileged port, what it takes. `flag` is set by whoever knows which flag asked for it.
 */
export class BindError extends ClusterDnsError {
  override name = 'BindError';
  readonly code = 'CDNS_ERR_BIND';
  readonly address: BoundAddress;
  /** The system's code: EADDRINUSE, EACCES, EADDRNOTAVAIL, ... */
  readonly errno: string;
  readonly flag: string | null;
  constructor(address: BoundAddress, cause: NodeJS.ErrnoException, flag: string | null = null) {
    const where = address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
    super(`${flag === null ? '' : `${flag} `}${where}: ${bindReason(cause, address.port)}`, { cause });
    this.address = address;
    this.errno = cause.code ?? '';
    this.flag = flag;
  }

  /** The same failure, named by the flag that asked for the address. */
  forFlag(flag: string): BindError {
    return new BindError(this.address, this.cause as NodeJS.ErrnoException, flag);
  }
}

/** The first port only root (or CAP_NET_BIND_SERVICE) may bind, unless the kernel was told otherwise. */
const UNPRIVILEGED_PORT_START = 1024;

function bindReason(err: NodeJS.ErrnoException, port: number): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'address already in use';
    case 'EACCES':
    case 'EPERM':
      return port > 0 && port < UNPRIVILEGED_PORT_START
        ? `permission denied: ports below ${UNPRIVILEGED_PORT_START} need root or the CAP_NET_BIND_SERVICE capability`
        : 'permission denied';
    case 'EADDRNOTAVAIL':
      return 'address not available: it is not an address of this machine';
    case 'EAFNOSUPPORT':
      return 'address family not supported on this machine';
    default:
      return err.message.split('\n')[0] ?? String(err.code);
  }
}

/** A system error from bind/listen (the kind BindError words), not a bug or a missing addon. */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}
