// Rendered manifests checked against the Kubernetes API schemas (OpenAPI, as compiled by the
// kubernetes-models packages): each object through the model of its apiVersion and kind. Types,
// enums, required fields and formats are checked by the models; the schemas allow unknown fields,
// which the API server's strict field validation (kubectl apply's default) refuses, so those are
// found separately from the models' declared fields (`unknownFields`).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';

const NODE_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));

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

/** A model's fields: name → the declaration file of its object type (null: a scalar, map or alias, not looked into). */
type Fields = ReadonlyMap<string, string | null>;
const fieldsCache = new Map<string, Fields | null>();

/** The fields of the first interface a kubernetes-models declaration file declares, or null for a type alias. */
function fieldsOf(file: string): Fields | null {
  const cached = fieldsCache.get(file);
  if (cached !== undefined) return cached;
  const text = readFileSync(file, 'utf8');
  const imports = new Map<string, string>();
  for (const [, name, from] of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) {
    const path = from!.startsWith('.') ? join(dirname(file), from!) : join(NODE_MODULES, from!);
    imports.set(name!, `${path.replace(/\.js$/, '')}.d.ts`);
  }
  const head = /^export interface I\w+( extends [\w, ]+)? \{$/m.exec(text);
  let fields: Map<string, string | null> | null = null;
  if (head) {
    fields = new Map();
    if (head[1]?.includes('TypeMeta')) for (const f of ['apiVersion', 'kind']) fields.set(f, null);
    let depth = 0;
    for (const line of text.slice(head.index + head[0].length).split('\n')) {
      const code = line.trim();
      if (code.startsWith('/**') || code.startsWith('*')) continue;
      if (depth === 0 && code === '}') break;
      const field = depth === 0 ? /^"([^"]+)"\??: (.*)$/.exec(code) : null;
      if (field) {
        const element = /^(?:Array<)?(I\w+)>?;$/.exec(field[2]!)?.[1];
        fields.set(field[1]!, (element && imports.get(element)) ?? null);
      }
      depth += (code.match(/\{/g)?.length ?? 0) - (code.match(/\}/g)?.length ?? 0);
    }
  }
  fieldsCache.set(file, fields);
  return fields;
}

/** The declaration file of the model for an apiVersion and kind, as moduleOf() finds its code. */
function modelFile(apiVersion: string, kind: string): string | null {
  const mod = moduleOf(apiVersion);
  return mod === null ? null : join(NODE_MODULES, mod, `${kind}.d.ts`);
}

/** Paths of the fields of `o` that its model does not declare (typos the API server would refuse). */
export function unknownFields(o: K8sObject): string[] {
  const root = modelFile(o.apiVersion, o.kind);
  const found: string[] = [];
  const walk = (value: unknown, file: string, path: string) => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, file, `${path}[${i}]`));
      return;
    }
    if (value === null || typeof value !== 'object') return;
    let fields: Fields | null;
    try {
      fields = fieldsOf(file);
    } catch {
      return;
    }
    if (fields === null) return;
    for (const [key, v] of Object.entries(value)) {
      if (!fields.has(key)) found.push(`${path}.${key}`);
      else if (fields.get(key)) walk(v, fields.get(key)!, `${path}.${key}`);
    }
  };
  if (root) walk(o, root, `${o.kind} ${o.metadata?.name}`);
  return found;
}
