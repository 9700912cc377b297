// The API server source's option: which kubeconfig (else $KUBECONFIG, else the pod's service
// account). Whether it is the source at all is the composer's rule (src/config.ts).
import { anyText, optionTable, type OptionValues } from '../base/options.ts';

export const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export const KUBE_OPTIONS = optionTable({
  kubeconfig: {
    flag: 'kubeconfig',
    group: 'source',
    arg: 'PATH',
    default: { value: null as string | null, text: '' },
    parse: anyText,
    help: 'watch the cluster this kubeconfig names',
    doc: 'watch the cluster this kubeconfig names',
  },
});

export type KubeOptions = OptionValues<typeof KUBE_OPTIONS>;
