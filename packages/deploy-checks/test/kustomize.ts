import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** A rendered Kubernetes object: at least apiVersion, kind and metadata.name. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/**
 * Kubernetes reads YAML 1.1 (go-yaml), where `0440` is octal and `yes` is
 * true; the yaml package's default 1.2 would read both differently.
 */
export function parseManifests(text: string, source: string): K8sObject[] {
  return parseAllDocuments(text, { version: '1.1' })
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** The fields of a kustomization that renderBase understands. */
const BASE_FIELDS = new Set(['apiVersion', 'kind', 'resources']);

/**
 * Renders a kustomization made only of local resource files, as the base is:
 * each file's documents in order. Anything else (patches, generators,
 * transformers) is refused, so this can never silently render less than
 * kustomize would.
 */
export function renderBase(dir: string): K8sObject[] {
  const kustomization = parseManifests(
    readFileSync(join(dir, 'kustomization.yaml'), 'utf8'),
    'kustomization.yaml',
  )[0] as unknown as Record<string, unknown>;
  const unknown = Object.keys(kustomization).filter((k) => !BASE_FIELDS.has(k));
  if (unknown.length > 0) {
    throw new Error(`${dir}/kustomization.yaml: renderBase does not handle ${unknown.join(', ')}`);
  }
  const resources = kustomization.resources as string[];
  return resources.flatMap((file) =>
    parseManifests(readFileSync(join(dir, file), 'utf8'), join(dir, file)),
  );
}

/** Path of kubectl, or undefined when it is not installed. */
export function findKubectl(): string | undefined {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 10_000 });
    return 'kubectl';
  } catch {
    return undefined;
  }
}

/** `kubectl kustomize dir`: offline, no cluster or kubeconfig needed. */
export function kubectlKustomize(kubectl: string, dir: string): K8sObject[] {
  const out = execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  return parseManifests(out, `kubectl kustomize ${dir}`);
}

export const idOf = (o: K8sObject) =>
  `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** What renderKustomization understands; anything else is refused. */
const FIELDS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'resources',
  'images',
  'replicas',
  'patches',
]);

interface Patch {
  path?: string;
  patch?: string;
  target?: { kind?: string; name?: string };
}

/**
 * Renders a kustomization with the few features this repository's overlays
 * use, as kubectl kustomize (kustomize v5) does, so the overlays are checked
 * where kubectl is not installed (CI; no npm package ships kustomize):
 * local resources (files or folders with a kustomization), `namespace`,
 * `images`, `replicas`, and `patches` (strategic merge by kind and name, or
 * JSON 6902 ops on a target by kind and name). Any other field is refused,
 * so it can never silently render less than kustomize would; where kubectl
 * is installed a test compares the two.
 */
export function renderKustomization(dir: string): K8sObject[] {
  const k = parseManifests(
    readFileSync(join(dir, 'kustomization.yaml'), 'utf8'),
    `${dir}/kustomization.yaml`,
  )[0] as unknown as JsonObject;
  const unknown = Object.keys(k).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) {
    throw new Error(
      `${dir}/kustomization.yaml: renderKustomization does not handle ${unknown.join(', ')}`,
    );
  }
  let objects: K8sObject[] = ((k.resources as string[] | undefined) ?? []).flatMap((r) => {
    const path = join(dir, r);
    return existsSync(join(path, 'kustomization.yaml'))
      ? renderKustomization(path)
      : parseManifests(readFileSync(path, 'utf8'), path);
  });
  for (const p of (k.patches as Patch[] | undefined) ?? []) {
    const text = p.path !== undefined ? readFileSync(join(dir, p.path), 'utf8') : p.patch;
    if (text === undefined) throw new Error(`${dir}: a patch with neither path nor patch`);
    const docs = parseAllDocuments(text, { version: '1.1' }).map((d) => d.toJS() as Json);
    const first = docs[0];
    if (Array.isArray(first)) {
      const targets = objects.filter(
        (o) =>
          (p.target?.kind === undefined || o.kind === p.target.kind) &&
          (p.target?.name === undefined || o.metadata.name === p.target.name),
      );
      if (targets.length === 0)
        throw new Error(`${dir}: patch target ${JSON.stringify(p.target)} matches nothing`);
      for (const o of targets) applyJsonPatch(o as unknown as JsonObject, first as JsonObject[]);
    } else {
      for (const doc of docs as K8sObject[]) {
        const i = objects.findIndex(
          (o) => o.kind === doc.kind && o.metadata.name === doc.metadata.name,
        );
        if (i < 0) throw new Error(`${dir}: patch for ${idOf(doc)} matches nothing`);
        objects[i] = strategicMerge(
          objects[i] as unknown as Json,
          doc as unknown as Json,
        ) as unknown as K8sObject;
      }
    }
  }
  const namespace = k.namespace as string | undefined;
  if (namespace !== undefined) {
    objects = objects.map((o) =>
      o.kind === 'Namespace' ? o : { ...o, metadata: { ...o.metadata, namespace } },
    );
  }
  for (const image of (k.images as JsonObject[] | undefined) ?? []) {
    for (const o of objects) {
      const spec = (
        o as unknown as { spec?: { template?: { spec?: { containers?: JsonObject[] } } } }
      ).spec?.template?.spec;
      for (const c of spec?.containers ?? []) {
        const [name, tag] = splitImage(String(c.image));
        if (name !== image.name) continue;
        c.image = `${(image.newName as string | undefined) ?? name}${image.newTag !== undefined ? `:${image.newTag}` : tag !== undefined ? `:${tag}` : ''}`;
      }
    }
  }
  for (const r of (k.replicas as JsonObject[] | undefined) ?? []) {
    const d = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === r.name);
    if (!d)
      throw new Error(`${dir}: replicas for ${String(r.name)}, which is not a Deployment here`);
    (d as unknown as { spec: JsonObject }).spec.replicas = r.count as number;
  }
  return objects;
}

function splitImage(image: string): [string, string | undefined] {
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/')
    ? [image.slice(0, at), image.slice(at + 1)]
    : [image, undefined];
}

/** Strategic merge as kustomize does it for these kinds: maps merge, lists of named items merge by name, other lists are replaced. */
function strategicMerge(base: Json, patch: Json): Json {
  if (Array.isArray(base) && Array.isArray(patch)) {
    const named = (l: Json[]) =>
      l.every(
        (i) =>
          i !== null && typeof i === 'object' && !Array.isArray(i) && typeof i.name === 'string',
      );
    if (!named(base) || !named(patch)) return patch;
    const out = base.map((i) => structuredClone(i)) as JsonObject[];
    const added: JsonObject[] = [];
    for (const item of patch as JsonObject[]) {
      const i = out.findIndex((o) => o.name === item.name);
      if (i < 0) added.push(item);
      else out[i] = strategicMerge(out[i]!, item) as JsonObject;
    }
    // kustomize puts the items only the patch has first.
    return [...added, ...out];
  }
  if (isObject(base) && isObject(patch)) {
    const out: JsonObject = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      out[key] = key in base ? strategicMerge(base[key]!, value) : value;
    }
    return out;
  }
  return patch;
}

const isObject = (v: Json | undefined): v is JsonObject =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** JSON 6902 add, replace and remove (what the overlays use). */
function applyJsonPatch(target: JsonObject, ops: JsonObject[]): void {
  for (const op of ops) {
    const keys = String(op.path)
      .split('/')
      .slice(1)
      .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = keys.pop()!;
    let parent: Json = target;
    for (const key of keys) {
      parent = Array.isArray(parent) ? parent[Number(key)]! : (parent as JsonObject)[key]!;
      if (parent === undefined)
        throw new Error(`JSON patch path ${String(op.path)} does not exist`);
    }
    if (op.op === 'add' || op.op === 'replace') {
      if (Array.isArray(parent)) {
        if (last === '-') parent.push(op.value!);
        else if (op.op === 'add') parent.splice(Number(last), 0, op.value!);
        else parent[Number(last)] = op.value!;
      } else {
        if (op.op === 'replace' && !(last in (parent as JsonObject))) {
          throw new Error(`JSON patch replace of a missing ${String(op.path)}`);
        }
        (parent as JsonObject)[last] = op.value!;
      }
    } else if (op.op === 'remove') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete (parent as JsonObject)[last];
    } else {
      throw new Error(`JSON patch op ${String(op.op)} is not handled`);
    }
  }
}
