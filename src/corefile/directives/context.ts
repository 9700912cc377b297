// What a directive reader may know besides its own line: the server block it is in, and the one
// way to look at files (the reader's CorefileFs).
import type { CorefileFs } from '../fs.ts';
import type { Directive } from '../parse.ts';
import type { Site } from './args.ts';

export interface BlockContext {
  /** The server block's zones (normalized as keys are), the default of a plugin's ZONES. */
  readonly zones: readonly string[];
  readonly fs: CorefileFs;
  /** Relative paths in arguments resolve against this, as CoreDNS resolves them against its own. */
  readonly cwd: string;
  warn(at: Site, message: string): void;
}

/** One directive's reader: its line (and block) in, typed settings with CoreDNS's defaults out. */
export type DirectiveReader<S> = (d: Directive, ctx: BlockContext) => S | Promise<S>;
