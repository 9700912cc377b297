#!/usr/bin/env node
// The cluster-dns binary. The Node.js version is checked before anything else is loaded: the
// server's modules need a newer Node than a fresh machine may have, and there they would fail
// with a stack trace instead of this line (so only node-version.ts and launch.ts, which use
// node: built-ins only, are imported statically). Then the memory settings (launch.ts
// re-executes this process once when they are missing), then the server (cli.ts), loaded only
// after that decision so that a re-execution costs one bare Node start-up.
import { relaunch } from './launch.ts';
import { unsupportedNode } from './node-version.ts';

const problem = unsupportedNode(process.versions.node);
if (problem !== null) {
  process.stderr.write(`${problem}\n`);
  process.exit(2);
}
relaunch();
await import('./cli.ts');
