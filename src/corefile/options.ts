// The options that say where the configuration comes from: a Corefile (`--conf`, CoreDNS's
// `-conf`), and `--check`, which validates and prints it without serving.
import { anyText, optionTable, switchOption, type OptionValues } from '../base/options.ts';

export const COREFILE_OPTIONS = optionTable({
  conf: {
    flag: 'conf',
    group: 'source',
    arg: 'PATH',
    default: { value: null as string | null, text: '' },
    parse: anyText,
    help: "read a CoreDNS Corefile (also -conf, as CoreDNS's own args); its directives set the options flags set",
    doc: 'a CoreDNS Corefile (also spelled `-conf`): its directives set the same options as the flags (a flag and a directive for one option is an error naming both); see [Coming from CoreDNS](#coming-from-coredns)',
  },
  check: switchOption({
    flag: 'check',
    group: 'source',
    help: 'validate the flags (and --conf), print the effective configuration, exit 0 or 2; binds and contacts nothing',
    doc: 'validate the flags and the `--conf` Corefile, print every option with where it came from and the server blocks, then exit 0 (or 2 with the error); binds and contacts nothing',
  }),
});

export type CorefileOptions = OptionValues<typeof COREFILE_OPTIONS>;
