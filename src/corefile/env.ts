// `{$NAME}` and `{%NAME%}` in a token, replaced by the environment as CoreDNS does while parsing.
import { CorefileError, type Location } from './errors.ts';

export type Environment = Readonly<Record<string, string | undefined>>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The token with every reference replaced; null when it has none. Like CoreDNS, quoted tokens are
 * replaced too and an unset variable reads as empty (reported through `unset`). Unlike CoreDNS,
 * the replacement is one pass (a value is never expanded again), and these are errors instead of
 * text left as written or read as empty: an unclosed reference, an empty or invalid name, and
 * `{$NAME:default}` (a Caddy v2 form that CoreDNS reads as the variable "NAME:default").
 */
export function substituteEnv(text: string, env: Environment, at: Location, unset: (name: string) => void): string | null {
  if (!text.includes('{$') && !text.includes('{%')) return null;
  let out = '';
  let i = 0;
  for (;;) {
    const dollar = text.indexOf('{$', i);
    const percent = text.indexOf('{%', i);
    const start = dollar === -1 ? percent : percent === -1 ? dollar : Math.min(dollar, percent);
    if (start === -1) break;
    const windows = start === percent;
    const close = windows ? '%}' : '}';
    const end = text.indexOf(close, start + 2);
    const shown = windows ? `{%${text.slice(start + 2, start + 12)}` : `{$${text.slice(start + 2, start + 12)}`;
    if (end === -1) throw new CorefileError('env', at, `environment reference "${shown}…" is never closed with "${close}"`);
    const name = text.slice(start + 2, end);
    const ref = windows ? `{%${name}%}` : `{$${name}}`;
    if (name === '') throw new CorefileError('env', at, `"${ref}" names no environment variable`);
    if (!windows && name.includes(':') && NAME.test(name.slice(0, name.indexOf(':')))) {
      throw new CorefileError(
        'env',
        at,
        `"${ref}": defaults ({$NAME:default}) are not part of the Corefile syntax; CoreDNS would read the variable "${name}"`,
      );
    }
    if (!NAME.test(name)) throw new CorefileError('env', at, `"${ref}": "${name}" is not an environment variable name`);
    const value = env[name];
    if (value === undefined) unset(name);
    out += text.slice(i, start) + (value ?? '');
    i = end + close.length;
  }
  return out + text.slice(i);
}
