/**
 * The Corefile reader: CoreDNS's configuration file read into plain data, knowing nothing of
 * what any directive means.
 *
 * What it does
 * - Reads the grammar as CoreDNS's Caddy v1 fork does (coredns/caddy caddyfile/): tokens, quotes,
 *   `#` comments, braces, `{$ENV}`/`{%ENV%}`, server blocks (with or without braces, comma- or
 *   space-separated keys), snippets `(name) { … }` and `import NAME|FILE|GLOB` anywhere a line
 *   starts (top level, server blocks, directive blocks), relative to the importing file's folder.
 * - Normalizes server block keys (transport, zones, port; CIDR keys become reverse zones) and
 *   refuses transports other than dns://.
 * - Keeps every directive's file and line through imports and snippets (`via` lists the import
 *   lines), lists the files and globs read (for reload watching), and prints the result back.
 * - Fails with one CorefileError, `FILE:LINE: why`, on anything CoreDNS would refuse and on the
 *   broken input it silently accepts (an unclosed quote, a stray '}', a block with no key).
 *
 * What it leaves to the mapper
 * - Whether a directive or property exists, its arguments, their order and their defaults.
 * - Duplicate keys: CoreDNS allows `.:53` twice when `bind` tells them apart, so "cannot serve
 *   dns://.:53 - it is already defined" needs the bind addresses.
 * - Files that directives name (hosts files, kubeconfig), which are not read here.
 *
 * Where it is stricter or plainer than CoreDNS, on input CoreDNS misreads or refuses later
 * - A quoted `"{"`, `"}"` or `"import"`, or a token that came from the environment, is text.
 * - An import is parsed on its own (a file cannot close the block that imports it), and a
 *   directory matched by a glob is an error, as in CoreDNS.
 * - Environment values are substituted once, never expanded again; `{$NAME:default}`, an empty
 *   or invalid name and an unclosed reference are errors; an unset variable reads as empty (as in
 *   CoreDNS) and is reported in `warnings`.
 * - A '}' may end a line inside a directive's block (`{ max_fails 2 }`), whatever the plugin.
 * - Import loops are named; imports, nesting, sizes and line counts are bounded (DEFAULT_LIMITS).
 */
export { CorefileError, formatLocated, type CorefileErrorKind, type Location } from './errors.ts';
export { nodeFs, type CorefileFs, type FileInfo } from './fs.ts';
export type { Environment } from './env.ts';
export type { ServerKey } from './keys.ts';
export { tokenize, type Token } from './lexer.ts';
export {
  DEFAULT_LIMITS,
  filesRead,
  parseCorefile,
  parseCorefileText,
  type Corefile,
  type Directive,
  type GlobImport,
  type Limits,
  type ParseOptions,
  type ServerBlock,
  type SourceFile,
  type Warning,
} from './parse.ts';
export { printCorefile } from './print.ts';
