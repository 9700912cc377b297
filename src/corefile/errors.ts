// The one error a Corefile read can end in, located at the file and line that caused it.
import { ClusterDnsError } from '../base/errors.ts';

/** A place in a Corefile or in a file it imports. */
export interface Location {
  readonly file: string;
  /** 1-based; 0 when the problem is the file as a whole (missing, a directory, too large). */
  readonly line: number;
}

/** What went wrong, for callers that branch on it; the message is for people. */
export type CorefileErrorKind = 'file' | 'syntax' | 'key' | 'import' | 'env' | 'limit' | 'directive' | 'unsupported';

/**
 * `FILE:LINE: why`, or `FILE: why` for a whole-file problem. `via` lists the import lines that
 * led to the file, outermost first, and is appended as "(imported at FILE:LINE)".
 */
export class CorefileError extends ClusterDnsError {
  override name = 'CorefileError';
  readonly code = 'CDNS_ERR_COREFILE';
  readonly kind: CorefileErrorKind;
  readonly file: string;
  readonly line: number;
  /** The why, without the location. */
  readonly reason: string;
  readonly via: readonly Location[];

  constructor(kind: CorefileErrorKind, at: Location, reason: string, via: readonly Location[] = []) {
    super(formatLocated(at, reason, via));
    this.kind = kind;
    this.file = at.file;
    this.line = at.line;
    this.reason = reason;
    this.via = via;
  }
}

/** `FILE:LINE: why (imported at FILE:LINE)`, the form every Corefile message takes. */
export function formatLocated(at: Location, reason: string, via: readonly Location[] = []): string {
  const where = at.line > 0 ? `${at.file}:${at.line}` : at.file;
  const chain =
    via.length > 0
      ? ` (imported at ${[...via]
          .reverse()
          .map((v) => `${v.file}:${v.line}`)
          .join(' <- ')})`
      : '';
  return `${where}: ${reason}${chain}`;
}
