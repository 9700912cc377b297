// What client-node's KubeConfig takes from its generated code, and nothing more: stands in for
// `dist/gen/index.js` (every generated API and model) when client-node.ts loads it.
export { createConfiguration } from '@kubernetes/client-node/dist/gen/configuration.js';
export { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';
