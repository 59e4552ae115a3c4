import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
