// The parts of @kubernetes/client-node we use (KubeConfig for kubeconfigs, the in-cluster service
// account, TLS and auth plugins; Watch; RequestContext), loaded without the rest. Its root module
// loads every generated API client and model class (~1,000 of them), code DNS never calls
// (its RSS: bench/RESULTS.md, "Figures behind the code"). KubeConfig itself only needs two small functions from that
// generated code, so a resolve hook hands its `./gen/index.js` import a stand-in that exports just
// those (client-node-gen.ts); everything loaded is client-node's own code, unchanged.
// The version is pinned (package.json), and test/cluster tests run the real KubeConfig and Watch
// through this module against the apiserver double.
import { registerHooks } from 'node:module';
import type { KubeConfig as KubeConfigClass } from '@kubernetes/client-node/dist/config.js';
import type { Watch as WatchClass } from '@kubernetes/client-node/dist/watch.js';
import type { RequestContext as RequestContextClass } from '@kubernetes/client-node/dist/gen/http/http.js';

const STAND_IN = import.meta.url.replace(/client-node\.(ts|js)$/, 'client-node-gen.$1');

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === './gen/index.js' && context.parentURL?.endsWith('/@kubernetes/client-node/dist/config.js')) {
      return { url: STAND_IN, shortCircuit: true };
    }
    return nextResolve(specifier, context);
  },
});

const [config, watch, http] = await Promise.all([
  import('@kubernetes/client-node/dist/config.js'),
  import('@kubernetes/client-node/dist/watch.js'),
  import('@kubernetes/client-node/dist/gen/http/http.js'),
]);

export const KubeConfig = config.KubeConfig;
export type KubeConfig = KubeConfigClass;
export const Watch = watch.Watch;
export type Watch = WatchClass;
export const RequestContext = http.RequestContext;
export type RequestContext = RequestContextClass;
export const HttpMethod = http.HttpMethod;
