// Rendered manifests checked against the Kubernetes API schemas (OpenAPI, as compiled by the
// kubernetes-models packages): each object through the model of its apiVersion and kind. Types,
// enums, required fields and formats are checked; unknown fields are not (the schemas allow them).
import { loadAll } from 'js-yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
};

/** apiVersion → the module holding its models. monitoring.coreos.com is the Prometheus Operator's CRDs. */
function moduleOf(apiVersion: string): string | null {
  if (apiVersion === 'v1') return 'kubernetes-models/v1';
  const [group, version] = apiVersion.split('/');
  if (!group || !version) return null;
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${group}/${version}`;
  if (group.includes('.') && !group.endsWith('.k8s.io')) return null;
  return `kubernetes-models/${group}/${version}`;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** Why `o` fails its schema, or null when it passes. An object with no model fails too. */
export async function schemaError(o: K8sObject): Promise<string | null> {
  const mod = moduleOf(o.apiVersion);
  if (mod === null) return `no schema for ${o.apiVersion} ${o.kind}`;
  let models: Record<string, unknown>;
  try {
    models = (await import(mod)) as Record<string, unknown>;
  } catch {
    return `no schema for ${o.apiVersion} (${mod})`;
  }
  const Model = models[o.kind] as ModelClass | undefined;
  if (typeof Model !== 'function') return `no schema for ${o.apiVersion} ${o.kind}`;
  try {
    new Model(o).validate();
    return null;
  } catch (err) {
    return `${o.kind} ${o.metadata?.name}: ${(err as Error).message}`;
  }
}

/** A multi-document YAML stream (helm template, kubectl kustomize) as objects, empty documents dropped. */
export function parseManifests(yaml: string): K8sObject[] {
  return (loadAll(yaml) as unknown[]).filter((o): o is K8sObject => o !== null && typeof o === 'object');
}
