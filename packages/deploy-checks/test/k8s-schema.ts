import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { idOf, type K8sObject } from './kustomize.js';

/** kubernetes-models' module for an object, e.g. `kubernetes-models/apps/v1/Deployment`. */
const modelPath = (o: K8sObject) => `kubernetes-models/${o.apiVersion}/${o.kind}`;

/**
 * Problems of each object against the Kubernetes OpenAPI schemas that
 * kubernetes-models ships (types, required fields, formats): one line each.
 */
export async function schemaProblems(objects: readonly K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const o of objects) {
    let model: { validate(): void } | undefined;
    try {
      const mod = (await import(modelPath(o))) as Record<
        string,
        new (
          data: unknown,
        ) => typeof model
      >;
      model = new (mod[o.kind] as new (data: unknown) => { validate(): void })(o);
    } catch {
      problems.push(`${idOf(o)}: no schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    try {
      model.validate();
    } catch (err) {
      problems.push(`${idOf(o)}: ${(err as Error).message}`);
    }
  }
  return problems;
}

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Fields the schemas do not know (a misspelt `readinesProbe` is valid JSON
 * schema-wise, since Kubernetes' OpenAPI allows extra properties, and the API
 * server drops it without a word). kubernetes-models' TypeScript interfaces
 * are exact, so each object is type-checked as an object literal of its
 * interface: TypeScript's excess property check names every unknown field.
 */
export function unknownFieldProblems(objects: readonly K8sObject[]): string[] {
  const file = join(here, '__manifests__.ts');
  // One object per line, so a diagnostic's line says which object it is about.
  const source = objects
    .map(
      (o, i) => `export const m${i}: import('${modelPath(o)}').I${o.kind} = ${JSON.stringify(o)};`,
    )
    .join('\n');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, lang, ...rest) =>
    name === file
      ? ts.createSourceFile(name, source, lang)
      : getSourceFile.call(host, name, lang, ...rest);
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? source : readFile.call(host, name));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (d.file?.fileName !== file || d.start === undefined) return message;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const o = objects[line];
    return o ? `${idOf(o)}: ${message}` : message;
  });
}
