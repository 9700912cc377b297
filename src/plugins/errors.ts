// The one error the plugins' option checks throw: it names the plugin and says what is wrong in a
// line, so a Corefile reader can prefix FILE:LINE and exit 2 (or fail a reload) with it.

export class PluginOptionError extends Error {
  override name = 'PluginOptionError';
  /** Stable code for callers that branch on the kind of error. */
  readonly code = 'PLUGIN_OPTION';
  readonly plugin: string;

  constructor(plugin: string, message: string) {
    super(`${plugin}: ${message}`);
    this.plugin = plugin;
  }
}
