#!/usr/bin/env node
// cluster-dns's entry point: first the memory settings (launch.ts: re-executes this process once
// when they are missing), then the server (cli.ts), loaded only after that decision so that a
// re-execution costs one bare Node start-up.
import { relaunch } from './launch.ts';

relaunch();
await import('./cli.ts');
