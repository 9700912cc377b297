// Every error the server raises on purpose has this base class and a stable code, so a caller
// branches on `code` (or `instanceof ClusterDnsError`), never on a message or a class name.

/** A stable error code: `CDNS_ERR_` and upper-case words. */
export type ErrorCode = `CDNS_ERR_${string}`;

export abstract class ClusterDnsError extends Error {
  abstract readonly code: ErrorCode;
}
