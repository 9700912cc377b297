#!/usr/bin/env node
// The cluster-dns binary. The Node.js version is checked before anything else is loaded: the
// server's modules need a newer Node than a fresh machine may have, and there they would fail
// with a stack trace instead of this line (so only node-version.ts is imported statically).
import { unsupportedNode } from './node-version.ts';

const problem = unsupportedNode(process.versions.node);
if (problem !== null) {
  process.stderr.write(`${problem}\n`);
  process.exit(2);
}
await import('./cli.ts');
