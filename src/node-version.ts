// The Node.js this code runs on. main.ts asks before it loads anything else, so this module uses
// nothing an old Node lacks: on Node 20 `node dist/main.js` must get this one line, not a stack.

/**
 * What the code needs: `module.registerHooks` (22.15, 23.5; client-node is loaded through it) and
 * type stripping on by default (22.18, 23.6; `.ts` files run as they are). The suite passes on 22.18.
 */
export const NODE_FLOOR = '22.18';

/** Why `version` (`v20.20.2` or `20.20.2`) cannot run cluster-dns, or null when it can. */
export function unsupportedNode(version: string): string | null {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  const supported = major >= 24 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
  if (supported) return null;
  return `cluster-dns needs Node.js >= ${NODE_FLOOR} (this is v${version.replace(/^v/, '')}): run it through npm scripts or node_modules/.bin/node`;
}
