// The kubeconfig error on its own, so that cli.ts can recognise it without loading client-node:
// --workers replicas never load it (see open.ts).
import { ClusterDnsError } from '../base/errors.ts';

export class KubeConfigError extends ClusterDnsError {
  override name = 'KubeConfigError';
  readonly code = 'CDNS_ERR_KUBECONFIG';
}
