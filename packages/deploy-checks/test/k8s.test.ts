import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AppDecl, loadApps } from './app-declarations.js';
import {
  appProblems,
  autoscaled,
  type CheckOptions,
  type ConfigMap,
  type Deployment,
  strayObjects,
} from './k8s-checks.js';
import { schemaProblems, unknownFieldProblems } from './k8s-schema.js';
import {
  findKubectl,
  idOf,
  type K8sObject,
  kubectlKustomize,
  renderBase,
  renderKustomization,
} from './kustomize.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const baseDir = join(root, 'deploy/k8s/base');
const overlayDir = join(root, 'deploy/k8s/overlays/example');
const lbDir = join(root, 'deploy/k8s/overlays/loadbalancer');
const version = (app: AppDecl) =>
  (
    JSON.parse(readFileSync(join(root, 'apps', app.name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
const kubectl = findKubectl();

let apps: AppDecl[];
let base: K8sObject[];
beforeAll(async () => {
  apps = await loadApps(root);
  base = renderBase(baseDir);
});

const clone = <T>(v: T): T => structuredClone(v);
/** The base runs the images the Dockerfile builds, at the app's version, with every app's defaults. */
const BASE: CheckOptions = {
  image: (app) => `netlab/${app.name}:${version(app)}`,
  defaultsOnly: true,
};
/** An overlay may name its own images and change settings. */
const OVERLAY: CheckOptions = { defaultsOnly: false };
const allProblems = (objects: readonly K8sObject[], opts: CheckOptions = BASE) => [
  ...apps.flatMap((app) => appProblems(objects, app, opts)),
  ...strayObjects(objects, apps),
];

describe('deploy/k8s/base', () => {
  it('has the seven apps', () => {
    expect(apps.map((a) => a.name)).toHaveLength(7);
    expect(
      base
        .filter((o) => o.kind === 'Deployment')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(apps.map((a) => a.name));
  });

  it('is valid against the Kubernetes schemas', async () => {
    expect(await schemaProblems(base)).toEqual([]);
  });

  it('has no field the Kubernetes schemas do not know', () => {
    expect(unknownFieldProblems(base)).toEqual([]);
  });

  it("agrees with every app's ports, probes, settings and shutdown deadline", () => {
    expect(allProblems(base)).toEqual([]);
  });

  it('autoscales exactly the stateless HTTP apps', () => {
    const scaled = base
      .filter((o) => o.kind === 'HorizontalPodAutoscaler')
      .map((o) => o.metadata.name)
      .sort();
    expect(scaled).toEqual(['dns-resolver-api', 'http-hello', 'https-secure', 'video-streamer']);
    expect(apps.filter(autoscaled).map((a) => a.name)).toEqual(scaled);
  });

  it('gives every app a PodDisruptionBudget, an admin ClusterIP Service and a pinned image', () => {
    for (const app of apps) {
      const pdb = base.find(
        (o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === app.name,
      );
      expect(pdb, app.name).toMatchObject({ spec: { maxUnavailable: 1 } });
      const admin = base.find(
        (o) => o.kind === 'Service' && o.metadata.name === `${app.name}-admin`,
      );
      expect(admin, app.name).toMatchObject({
        spec: { type: 'ClusterIP', ports: [{ port: app.adminPort, targetPort: 'admin' }] },
      });
    }
    const images = base
      .filter((o): o is Deployment => o.kind === 'Deployment')
      .map((o) => o.spec.template.spec.containers[0]?.image ?? '');
    expect(images.filter((i) => i.endsWith(':latest') || !/:[^/]+$/.test(i))).toEqual([]);
  });

  const byId = (objects: K8sObject[]) => Object.fromEntries(objects.map((o) => [idOf(o), o]));
  it.skipIf(!kubectl)('renders as kubectl kustomize renders it (skipped without kubectl)', () => {
    expect(byId(base)).toEqual(byId(kubectlKustomize(kubectl as string, baseDir)));
  });
  it.skipIf(!kubectl)(
    "this package's renderer renders both overlays as kubectl kustomize does (skipped without kubectl)",
    () => {
      for (const dir of [overlayDir, lbDir]) {
        expect(byId(renderKustomization(dir)), dir).toEqual(
          byId(kubectlKustomize(kubectl as string, dir)),
        );
      }
    },
  );
});

describe('deploy/k8s/overlays/example (rendered by this package, checked against kubectl where installed)', () => {
  let overlay: K8sObject[];
  beforeAll(() => {
    overlay = renderKustomization(overlayDir);
  });

  it('is valid against the Kubernetes schemas, with no unknown field', async () => {
    expect(await schemaProblems(overlay)).toEqual([]);
    expect(unknownFieldProblems(overlay)).toEqual([]);
  });

  it("still agrees with every app's declarations", () => {
    expect(allProblems(overlay, OVERLAY)).toEqual([]);
  });

  it('puts everything in its namespace, at a fixed image tag', () => {
    for (const o of overlay.filter((o) => o.kind !== 'Namespace')) {
      expect(o.metadata.namespace, idOf(o)).toBe('netlab');
    }
    const images = overlay
      .filter((o): o is Deployment => o.kind === 'Deployment')
      .map((o) => o.spec.template.spec.containers[0]?.image);
    expect(images).toHaveLength(7);
    for (const image of images) expect(image).toMatch(/:\d+\.\d+\.\d+$/);
  });

  it('gives https-secure the certificate of a mounted Secret', () => {
    const config = overlay.find((o) => o.metadata.name === 'https-secure-config') as ConfigMap;
    expect(config.data?.TLS_CERT_FILE).toBe('/etc/netlab/tls/tls.crt');
    expect(config.data?.TLS_KEY_FILE).toBe('/etc/netlab/tls/tls.key');
    const deployment = overlay.find(
      (o) => o.kind === 'Deployment' && o.metadata.name === 'https-secure',
    ) as Deployment;
    const volumes = deployment.spec.template.spec.volumes ?? [];
    expect(volumes.map((v) => v.secret?.secretName)).toContain('https-secure-tls');
  });

  it('gives tls-custom-protocol, run as two replicas, one certificate from a Secret', () => {
    const deployment = overlay.find(
      (o) => o.kind === 'Deployment' && o.metadata.name === 'tls-custom-protocol',
    ) as Deployment;
    expect(deployment.spec.replicas).toBe(2);
    const config = overlay.find(
      (o) => o.metadata.name === 'tls-custom-protocol-config',
    ) as ConfigMap;
    expect(config.data?.TLS_CERT_FILE).toBe('/etc/netlab/tls/tls.crt');
    const volumes = deployment.spec.template.spec.volumes ?? [];
    expect(volumes.map((v) => v.secret?.secretName)).toContain('tls-custom-protocol-tls');
  });
});

describe('deploy/k8s/overlays/loadbalancer', () => {
  let overlay: K8sObject[];
  beforeAll(() => {
    overlay = renderKustomization(lbDir);
  });

  it('is valid against the Kubernetes schemas, with no unknown field, and agrees with the apps', async () => {
    expect(await schemaProblems(overlay)).toEqual([]);
    expect(unknownFieldProblems(overlay)).toEqual([]);
    expect(allProblems(overlay)).toEqual([]);
  });

  it("makes every app's Service a LoadBalancer keeping the client address, and no admin Service", () => {
    const services = overlay.filter((o) => o.kind === 'Service') as Array<
      K8sObject & { spec: { type?: string; externalTrafficPolicy?: string } }
    >;
    for (const app of apps) {
      expect(services.find((s) => s.metadata.name === app.name)?.spec, app.name).toMatchObject({
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
      });
      expect(services.find((s) => s.metadata.name === `${app.name}-admin`)?.spec.type).toBe(
        'ClusterIP',
      );
    }
  });
});

// Each check must be able to fail: break one thing in a copy of the base and
// the check names it.
describe('the checks catch a broken manifest', () => {
  const broken = (edit: (objects: K8sObject[]) => void) => {
    const objects = clone(base);
    edit(objects);
    return objects;
  };
  // Any field of a manifest, to break it: a typed path would say nothing more.
  const get = (objects: K8sObject[], kind: string, name: string) =>
    // biome-ignore lint/suspicious/noExplicitAny: a test reaching into arbitrary manifest fields
    objects.find((o) => o.kind === kind && o.metadata.name === name) as any;
  const container = (objects: K8sObject[], name: string) =>
    get(objects, 'Deployment', name).spec.template.spec.containers[0];

  it('a wrong type or a missing required field (schema)', async () => {
    const objects = broken((o) => {
      get(o, 'Deployment', 'tcp-echo').spec.replicas = 'two';
      delete container(o, 'http-hello').readinessProbe.httpGet.port;
    });
    const problems = await schemaProblems(objects);
    expect(problems.join('\n')).toMatch(/Deployment\/tcp-echo: .*replicas must be integer/);
    expect(problems.join('\n')).toMatch(/Deployment\/http-hello: .*required property port/);
  });

  it('a misspelt field (unknown to the schemas)', () => {
    const objects = broken((o) => {
      const c = container(o, 'udp-listener');
      c.readinesProbe = c.readinessProbe;
      delete c.readinessProbe;
    });
    expect(unknownFieldProblems(objects).join('\n')).toMatch(
      /Deployment\/udp-listener: .*readinesProbe.* does not exist/,
    );
  });

  it.each([
    [
      'a probe on the service port',
      (o: K8sObject[]) => {
        container(o, 'http-hello').livenessProbe.httpGet.port = 'http';
      },
      /http-hello: livenessProbe port http is not the admin port 9001/,
    ],
    [
      'a container port that is not the app default',
      (o: K8sObject[]) => {
        container(o, 'tcp-echo').ports[0].containerPort = 7001;
      },
      /tcp-echo: no containerPort 7000 \(PORT\)/,
    ],
    [
      'the UDP app served over TCP',
      (o: K8sObject[]) => {
        container(o, 'udp-listener').ports[0].protocol = 'TCP';
      },
      /udp-listener: containerPort 41234 is TCP, the app serves UDP/,
    ],
    [
      'a Service port of the wrong protocol',
      (o: K8sObject[]) => {
        get(o, 'Service', 'udp-listener').spec.ports[0].protocol = 'TCP';
      },
      /Service\/udp-listener: port udp is TCP, its target is UDP/,
    ],
    [
      "the admin port back on the app's Service",
      (o: K8sObject[]) => {
        get(o, 'Service', 'video-streamer').spec.ports.push({
          name: 'admin',
          port: 9006,
          targetPort: 'admin',
          protocol: 'TCP',
        });
      },
      /Service\/video-streamer: exposes ADMIN_PORT 9006: it belongs on Service\/video-streamer-admin/,
    ],
    [
      'an admin Service made public',
      (o: K8sObject[]) => {
        get(o, 'Service', 'udp-listener-admin').spec.type = 'LoadBalancer';
      },
      /Service\/udp-listener-admin: is LoadBalancer, not ClusterIP/,
    ],
    [
      'no PodDisruptionBudget',
      (o: K8sObject[]) => {
        o.splice(o.indexOf(get(o, 'PodDisruptionBudget', 'tcp-echo')), 1);
      },
      /Deployment\/tcp-echo: no PodDisruptionBudget selects its pods/,
    ],
    [
      'a PodDisruptionBudget that blocks a drain',
      (o: K8sObject[]) => {
        const pdb = get(o, 'PodDisruptionBudget', 'tcp-echo');
        delete pdb.spec.maxUnavailable;
        pdb.spec.minAvailable = 1;
      },
      /PodDisruptionBudget\/tcp-echo: maxUnavailable is not 1/,
    ],
    [
      'no topology spread',
      (o: K8sObject[]) => {
        delete get(o, 'Deployment', 'http-hello').spec.template.spec.topologySpreadConstraints;
      },
      /Deployment\/http-hello: no topology spread over kubernetes.io\/hostname/,
    ],
    [
      'an image at :latest',
      (o: K8sObject[]) => {
        container(o, 'tcp-echo').image = 'netlab/tcp-echo:latest';
      },
      /Deployment\/tcp-echo: image netlab\/tcp-echo:latest has no fixed tag/,
    ],
    [
      'two replicas of a TLS app, each with its own self-signed certificate',
      (o: K8sObject[]) => {
        get(o, 'Deployment', 'tls-custom-protocol').spec.replicas = 2;
      },
      /Deployment\/tls-custom-protocol: 2 replicas each generating a self-signed certificate/,
    ],
    [
      'an autoscaler without scale-down stabilization',
      (o: K8sObject[]) => {
        delete get(o, 'HorizontalPodAutoscaler', 'http-hello').spec.behavior;
      },
      /HorizontalPodAutoscaler\/http-hello: no scale-down stabilization/,
    ],
    [
      'an autoscaled app with a tiny CPU request',
      (o: K8sObject[]) => {
        container(o, 'dns-resolver-api').resources.requests.cpu = '50m';
      },
      /Deployment\/dns-resolver-api: cpu request 50m is below 100m/,
    ],
    [
      'a setting the app does not have',
      (o: K8sObject[]) => {
        get(o, 'ConfigMap', 'dns-resolver-api-config').data.DNS_TIMEOUT = '5';
      },
      /DNS_TIMEOUT is not a variable of dns-resolver-api/,
    ],
    [
      'a setting the app would refuse',
      (o: K8sObject[]) => {
        get(o, 'ConfigMap', 'tcp-echo-config').data.MAX_CONNECTIONS = 'lots';
      },
      /tcp-echo-config: MAX_CONNECTIONS: expected an integer/,
    ],
    [
      'a setting that is not the default',
      (o: K8sObject[]) => {
        get(o, 'ConfigMap', 'http-hello-config').data.LOG_LEVEL = 'debug';
      },
      /LOG_LEVEL is "debug", the app's default is "info"/,
    ],
    [
      'HOST set',
      (o: K8sObject[]) => {
        get(o, 'ConfigMap', 'http-hello-config').data.HOST = '127.0.0.1';
      },
      /HOST is set/,
    ],
    [
      'a grace period shorter than the drain',
      (o: K8sObject[]) => {
        get(
          o,
          'Deployment',
          'tls-custom-protocol',
        ).spec.template.spec.terminationGracePeriodSeconds = 15;
      },
      /tls-custom-protocol: terminationGracePeriodSeconds 15 is not above preStop \+ SHUTDOWN_TIMEOUT_MS \(15 s\)/,
    ],
    [
      'a drain longer than the grace period',
      (o: K8sObject[]) => {
        get(o, 'ConfigMap', 'tcp-echo-config').data.SHUTDOWN_TIMEOUT_MS = '60000';
      },
      /tcp-echo: terminationGracePeriodSeconds 30 is not above/,
    ],
    [
      'a writable root filesystem',
      (o: K8sObject[]) => {
        container(o, 'https-secure').securityContext.readOnlyRootFilesystem = false;
      },
      /https-secure: readOnlyRootFilesystem is not true/,
    ],
    [
      'root allowed',
      (o: K8sObject[]) => {
        delete get(o, 'Deployment', 'tcp-echo').spec.template.spec.securityContext.runAsNonRoot;
      },
      /tcp-echo: runAsNonRoot is not true/,
    ],
    [
      'no memory limit',
      (o: K8sObject[]) => {
        delete container(o, 'video-streamer').resources.limits.memory;
      },
      /video-streamer: no memory limit/,
    ],
    [
      'no /tmp volume',
      (o: K8sObject[]) => {
        container(o, 'https-secure').volumeMounts = [];
      },
      /https-secure: no emptyDir at \/tmp/,
    ],
    [
      'a certificate file on no volume',
      (o: K8sObject[]) => {
        get(o, 'ConfigMap', 'https-secure-config').data.TLS_CERT_FILE = '/etc/netlab/tls/tls.crt';
      },
      /https-secure: TLS_CERT_FILE \/etc\/netlab\/tls\/tls.crt is on no mounted volume/,
    ],
    [
      'fixed replicas beside an autoscaler',
      (o: K8sObject[]) => {
        get(o, 'Deployment', 'http-hello').spec.replicas = 2;
      },
      /http-hello: sets replicas/,
    ],
    [
      'an HTTP app without its autoscaler',
      (o: K8sObject[]) => {
        o.splice(o.indexOf(get(o, 'HorizontalPodAutoscaler', 'dns-resolver-api')), 1);
      },
      /dns-resolver-api: no HorizontalPodAutoscaler/,
    ],
    [
      'an app without a Service',
      (o: K8sObject[]) => {
        o.splice(o.indexOf(get(o, 'Service', 'tcp-echo')), 1);
      },
      /Service\/tcp-echo: missing/,
    ],
    [
      'a Service selecting other pods',
      (o: K8sObject[]) => {
        get(o, 'Service', 'http-hello').spec.selector['app.kubernetes.io/name'] = 'hello';
      },
      /Service\/http-hello: selector does not match/,
    ],
    [
      'the wrong image',
      (o: K8sObject[]) => {
        container(o, 'tcp-echo').image = 'netlab/tcp-echo-x:latest';
      },
      /tcp-echo: image is netlab\/tcp-echo-x:latest/,
    ],
  ])('%s', (_name, edit, expected) => {
    expect(allProblems(broken(edit)).join('\n')).toMatch(expected);
  });
});
