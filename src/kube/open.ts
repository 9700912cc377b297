// The edge of src/kube/, what the rest of the server imports: client-node and undici (tens of MiB of
// RSS) load behind it only when a cluster is watched, so --manifests and --workers replicas never
// load them. Nothing outside src/kube/ imports another of its modules but for types
// (test/kube/kubernetes.test.ts checks both).
import type { KubernetesSource, KubernetesSourceOptions } from './kubernetes.ts';
import { KubeConfigError } from './kubeconfig-error.ts';

export { KubeConfigError };
export type { KubernetesSource, KubernetesSourceOptions };

/** The API source for `kubeconfig` (null: $KUBECONFIG, else the pod's service account); not started. */
export async function openKubernetesSource(
  kubeconfig: string | null,
  options: Omit<KubernetesSourceOptions, 'kubeConfig' | 'api'>,
): Promise<KubernetesSource> {
  const { loadKubeConfig, KubernetesSource } = await import('./kubernetes.ts');
  const kubeConfig = loadKubeConfig(kubeconfig ?? undefined);
  if (!kubeConfig) {
    throw new KubeConfigError(
      'no kubeconfig found: give --kubeconfig, set $KUBECONFIG, or run in a pod (the service account token needs $KUBERNETES_SERVICE_HOST beside it)',
    );
  }
  return new KubernetesSource({ ...options, kubeConfig });
}
