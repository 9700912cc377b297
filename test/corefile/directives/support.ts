// Helpers for the directive tests: a Corefile text compiled from memory, and its plugin entries.
import { compile, type Plan, type PluginEntry, type PluginName, type SettingsByName } from '../../../src/corefile/directives/index.ts';
import { parseCorefileText } from '../../../src/corefile/index.ts';
import { memoryFs } from '../../support/corefile.ts';

export const FILE = '/cfg/Corefile';

/** Files every compile can see: a resolv.conf for `forward . /etc/resolv.conf`. */
export const BASE_FILES: Readonly<Record<string, string>> = {
  '/etc/resolv.conf': 'nameserver 127.0.0.53\n',
  '/work/resolv.conf': 'nameserver 127.0.0.54\n',
};

export async function planOf(text: string, files: Record<string, string> = {}): Promise<Plan> {
  const fs = memoryFs({ ...BASE_FILES, ...files });
  const corefile = await parseCorefileText(text, FILE, fs, { env: {} });
  return compile(corefile, { fs, cwd: '/work' });
}

/** The directive lines inside `.:53 { … }`; the block's first line is line 1, so `lines` start at 2. */
export function inBlock(lines: string): string {
  return `.:53 {\n${lines}\n}\n`;
}

export function entries(plan: Plan, name: PluginName): PluginEntry[] {
  return plan.servers.flatMap((s) => s.plugins.filter((p) => p.name === name));
}

/** The settings of the first `name` line in the Corefile. */
export async function settingsOf<N extends PluginName>(
  name: N,
  text: string,
  files: Record<string, string> = {},
): Promise<SettingsByName[N]> {
  const found = entries(await planOf(text, files), name)[0];
  if (found === undefined) throw new Error(`no ${name} in the plan`);
  return found.settings as SettingsByName[N];
}
