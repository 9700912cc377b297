// The one error the plugins' option checks throw: it names the plugin and says what is wrong in a
// line, so a Corefile reader can prefix FILE:LINE and exit 2 (or fail a reload) with it.
import { ClusterDnsError } from '../base/errors.ts';

export class PluginOptionError extends ClusterDnsError {
  override name = 'PluginOptionError';
  readonly code = 'CDNS_ERR_PLUGIN_OPTION';
  readonly plugin: string;

  constructor(plugin: string, message: string) {
    super(`${plugin}: ${message}`);
    this.plugin = plugin;
  }
}
