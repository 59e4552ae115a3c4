import { posix } from 'node:path';
import type { AppDecl } from './app-declarations.js';
import { idOf, type K8sObject } from './kustomize.js';

// Only the fields the checks read; the schemas check the rest.
interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}
interface Probe {
  httpGet?: { path?: string; port: number | string };
}
interface Container {
  name: string;
  image?: string;
  ports?: ContainerPort[];
  envFrom?: { configMapRef?: { name: string } }[];
  env?: { name: string }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type: string };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  topologySpreadConstraints?: {
    topologyKey: string;
    labelSelector?: { matchLabels?: Record<string, string> };
  }[];
  terminationGracePeriodSeconds?: number;
  securityContext?: Container['securityContext'];
  volumes?: { name: string; emptyDir?: unknown; secret?: { secretName: string } }[];
}
export interface Deployment extends K8sObject {
  spec: {
    replicas?: number;
    selector: { matchLabels?: Record<string, string> };
    template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
  };
}
interface Service extends K8sObject {
  spec: {
    type?: string;
    selector?: Record<string, string>;
    ports: { name?: string; port: number; targetPort?: number | string; protocol?: string }[];
  };
}
export interface ConfigMap extends K8sObject {
  data?: Record<string, string>;
}
interface Pdb extends K8sObject {
  spec: {
    selector?: { matchLabels?: Record<string, string> };
    maxUnavailable?: number | string;
    minAvailable?: number | string;
  };
}
interface Hpa extends K8sObject {
  spec: {
    scaleTargetRef: { kind: string; name: string };
    behavior?: { scaleDown?: { stabilizationWindowSeconds?: number } };
    metrics?: { type: string; resource?: { name: string } }[];
  };
}

/** Apps whose pods keep no per-client state: scaled on CPU. */
export const autoscaled = (app: AppDecl) => app.protocol === 'http' || app.protocol === 'https';

const find = <T extends K8sObject>(objects: readonly K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name) as T | undefined;

/** Whether `file` is below the folder `dir`. */
function isInside(dir: string, file: string): boolean {
  const rel = posix.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !posix.isAbsolute(rel);
}

/** Seconds a preStop sleep holds back SIGTERM. */
const preStopSeconds = (c: Container) => c.lifecycle?.preStop?.sleep?.seconds ?? 0;

function portOf(c: Container, ref: number | string | undefined): ContainerPort | undefined {
  return (c.ports ?? []).find((p) =>
    typeof ref === 'string' ? p.name === ref : p.containerPort === ref,
  );
}

export interface CheckOptions {
  /** The image each app's container must run (the base's own names), or no image check. */
  image?: (app: AppDecl) => string;
  /** Every ConfigMap value must be the app's default (the base), not only a valid value. */
  defaultsOnly: boolean;
}

/**
 * Everything the manifests of one app must agree on with the app's own
 * declarations and with each other; one line per problem.
 */
export function appProblems(
  objects: readonly K8sObject[],
  app: AppDecl,
  opts: CheckOptions,
): string[] {
  const problems: string[] = [];
  const say = (o: K8sObject | string, what: string) =>
    problems.push(`${typeof o === 'string' ? o : idOf(o)}: ${what}`);

  const deployment = find<Deployment>(objects, 'Deployment', app.name);
  const service = find<Service>(objects, 'Service', app.name);
  const configMap = find<ConfigMap>(objects, 'ConfigMap', `${app.name}-config`);
  if (!deployment) say(`Deployment/${app.name}`, 'missing');
  if (!service) say(`Service/${app.name}`, 'missing');
  if (!configMap) say(`ConfigMap/${app.name}-config`, 'missing');
  if (!deployment || !service || !configMap) return problems;

  // Settings: only variables the app declares, each one it would accept.
  const data = configMap.data ?? {};
  for (const [key, raw] of Object.entries(data)) {
    const decl = app.schema[key];
    if (!decl) {
      say(configMap, `${key} is not a variable of ${app.name}`);
      continue;
    }
    const parsed = decl.parse(raw);
    if ('error' in parsed) say(configMap, `${key}: ${parsed.error}`);
    else if (opts.defaultsOnly && JSON.stringify(parsed.value) !== JSON.stringify(decl.default)) {
      say(configMap, `${key} is "${raw}", the app's default is ${JSON.stringify(decl.default)}`);
    }
  }
  if ('HOST' in data) say(configMap, 'HOST is set: a pod must listen on every interface');
  const setting = (key: string, fallback: number) =>
    data[key] === undefined ? fallback : Number(data[key]);
  const port = setting('PORT', app.port);
  const adminPort = setting('ADMIN_PORT', app.adminPort);
  const shutdownMs = setting('SHUTDOWN_TIMEOUT_MS', app.shutdownTimeoutMs);

  const pod = deployment.spec.template.spec;
  const podLabels = deployment.spec.template.metadata?.labels ?? {};
  const selects = (selector: Record<string, string> | undefined) =>
    selector !== undefined &&
    Object.keys(selector).length > 0 &&
    Object.entries(selector).every(([k, v]) => podLabels[k] === v);
  if (!selects(deployment.spec.selector.matchLabels)) {
    say(deployment, 'selector does not match the pod template labels');
  }

  const container = pod.containers.find((c) => c.name === app.name);
  if (!container || pod.containers.length !== 1) {
    say(deployment, `expected one container named ${app.name}`);
    return problems;
  }
  const image = opts.image?.(app);
  if (image !== undefined && container.image !== image) {
    say(deployment, `image is ${container.image}, expected ${image}`);
  }
  // A moving tag with IfNotPresent runs whatever each node pulled last.
  const tag = /:([^/:]+)$/.exec(container.image ?? '')?.[1];
  if (tag === undefined || tag === 'latest') {
    say(deployment, `image ${container.image} has no fixed tag (latest)`);
  }
  // Replicas spread over nodes, so one node's loss or drain is not all of them.
  const spreads = (pod.topologySpreadConstraints ?? []).some(
    (t) => t.topologyKey === 'kubernetes.io/hostname' && selects(t.labelSelector?.matchLabels),
  );
  if (!spreads) say(deployment, 'no topology spread over kubernetes.io/hostname');
  if (!container.envFrom?.some((e) => e.configMapRef?.name === configMap.metadata.name)) {
    say(deployment, `does not take its environment from ConfigMap ${configMap.metadata.name}`);
  }
  for (const e of container.env ?? []) {
    if (!app.schema[e.name]) say(deployment, `env ${e.name} is not a variable of ${app.name}`);
  }

  // Ports: the service port with the app's protocol, and the admin port.
  const protocol = app.protocol === 'udp' ? 'UDP' : 'TCP';
  const main = portOf(container, port);
  if (!main) say(deployment, `no containerPort ${port} (PORT)`);
  else if ((main.protocol ?? 'TCP') !== protocol) {
    say(
      deployment,
      `containerPort ${port} is ${main.protocol ?? 'TCP'}, the app serves ${protocol}`,
    );
  }
  const admin = portOf(container, adminPort);
  if (!admin) say(deployment, `no containerPort ${adminPort} (ADMIN_PORT)`);
  for (const p of container.ports ?? []) {
    if (p.containerPort !== port && p.containerPort !== adminPort) {
      say(deployment, `containerPort ${p.containerPort} is neither PORT nor ADMIN_PORT`);
    }
  }

  // Probes: the admin server's endpoints, on the admin port.
  for (const [kind, path] of [
    ['livenessProbe', '/livez'],
    ['readinessProbe', '/readyz'],
  ] as const) {
    const get = container[kind]?.httpGet;
    if (!get) {
      say(deployment, `no ${kind} httpGet`);
      continue;
    }
    if (get.path !== path) say(deployment, `${kind} asks ${get.path}, expected ${path}`);
    const target = portOf(container, get.port);
    if (target?.containerPort !== adminPort) {
      say(deployment, `${kind} port ${get.port} is not the admin port ${adminPort}`);
    }
  }

  // Shutdown: the kubelet must not kill the pod while it still drains.
  const graceS = pod.terminationGracePeriodSeconds ?? 30;
  const needS = preStopSeconds(container) + shutdownMs / 1000;
  if (!(graceS > needS)) {
    say(
      deployment,
      `terminationGracePeriodSeconds ${graceS} is not above preStop + SHUTDOWN_TIMEOUT_MS (${needS} s)`,
    );
  }

  // Hardening.
  const sc = { ...pod.securityContext, ...container.securityContext };
  if (sc.runAsNonRoot !== true) say(deployment, 'runAsNonRoot is not true');
  if (sc.runAsUser === undefined || sc.runAsUser === 0)
    say(deployment, 'runAsUser is not a fixed non-root uid');
  if (sc.allowPrivilegeEscalation !== false)
    say(deployment, 'allowPrivilegeEscalation is not false');
  if (sc.readOnlyRootFilesystem !== true) say(deployment, 'readOnlyRootFilesystem is not true');
  if (!sc.capabilities?.drop?.includes('ALL')) say(deployment, 'capabilities do not drop ALL');
  if ((sc.capabilities?.add ?? []).length > 0) say(deployment, 'capabilities are added');
  if (sc.seccompProfile?.type !== 'RuntimeDefault')
    say(deployment, 'seccompProfile is not RuntimeDefault');
  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  for (const m of container.volumeMounts ?? []) {
    if (!volumes.has(m.name)) say(deployment, `volumeMount ${m.name} has no volume`);
  }
  const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
  if (!tmp || volumes.get(tmp.name)?.emptyDir === undefined) {
    say(deployment, 'no emptyDir at /tmp (the root filesystem is read-only)');
  }
  // A certificate or CA file the app is told to read must be mounted.
  for (const key of ['TLS_CERT_FILE', 'TLS_KEY_FILE', 'TLS_CLIENT_CA_FILE']) {
    const file = data[key];
    if (file === undefined) continue;
    const mounted = container.volumeMounts?.some((m) => isInside(m.mountPath, file));
    if (!mounted) say(deployment, `${key} ${file} is on no mounted volume`);
  }

  const { requests = {}, limits = {} } = container.resources ?? {};
  for (const r of ['cpu', 'memory']) {
    if (!requests[r]) say(deployment, `no ${r} request`);
    if (!limits[r]) say(deployment, `no ${r} limit`);
  }

  // Service: the same pods, the main port with its protocol, the admin port.
  if (!selects(service.spec.selector)) say(service, 'selector does not match the Deployment pods');
  const exposed = new Set<number>();
  for (const sp of service.spec.ports) {
    const target = portOf(container, sp.targetPort ?? sp.port);
    if (!target) {
      say(
        service,
        `port ${sp.name ?? sp.port} targets ${sp.targetPort ?? sp.port}, not a container port`,
      );
      continue;
    }
    if ((sp.protocol ?? 'TCP') !== (target.protocol ?? 'TCP')) {
      say(
        service,
        `port ${sp.name ?? sp.port} is ${sp.protocol ?? 'TCP'}, its target is ${target.protocol ?? 'TCP'}`,
      );
    }
    exposed.add(target.containerPort);
  }
  if (!exposed.has(port)) say(service, `does not expose PORT ${port}`);
  // The admin port (metrics, udp-listener's payload previews) has a Service
  // of its own that stays inside the cluster, whatever the app's becomes.
  if (exposed.has(adminPort)) {
    say(service, `exposes ADMIN_PORT ${adminPort}: it belongs on Service/${app.name}-admin`);
  }
  const adminService = find<Service>(objects, 'Service', `${app.name}-admin`);
  if (!adminService) say(`Service/${app.name}-admin`, 'missing');
  else {
    if ((adminService.spec.type ?? 'ClusterIP') !== 'ClusterIP') {
      say(adminService, `is ${adminService.spec.type}, not ClusterIP`);
    }
    if (!selects(adminService.spec.selector)) {
      say(adminService, 'selector does not match the Deployment pods');
    }
    const targets = adminService.spec.ports.map(
      (sp) => portOf(container, sp.targetPort ?? sp.port)?.containerPort,
    );
    if (targets.length !== 1 || targets[0] !== adminPort) {
      say(adminService, `does not expose exactly ADMIN_PORT ${adminPort}`);
    }
  }
  // Disruptions (drains, upgrades) take one pod at a time, and never block.
  const pdb = objects.find(
    (o): o is Pdb =>
      o.kind === 'PodDisruptionBudget' && selects((o as Pdb).spec.selector?.matchLabels),
  );
  if (!pdb) say(deployment, 'no PodDisruptionBudget selects its pods');
  else if (pdb.spec.maxUnavailable !== 1) {
    say(pdb, 'maxUnavailable is not 1 (minAvailable can block a drain of a single replica)');
  }
  // A generated certificate is each pod's own: several pods behind one
  // Service would present several. More than one replica needs a shared one.
  if ('TLS_CERT_DIR' in app.schema && data.TLS_CERT_FILE === undefined) {
    if ((deployment.spec.replicas ?? 1) > 1) {
      say(
        deployment,
        `${deployment.spec.replicas} replicas each generating a self-signed certificate: mount one (TLS_CERT_FILE) from a Secret`,
      );
    }
  }

  // Autoscaling: CPU for the stateless HTTP apps, and then the HPA alone sets replicas.
  const hpas = objects.filter(
    (o): o is Hpa =>
      o.kind === 'HorizontalPodAutoscaler' &&
      (o as Hpa).spec.scaleTargetRef.kind === 'Deployment' &&
      (o as Hpa).spec.scaleTargetRef.name === app.name,
  );
  if (autoscaled(app)) {
    const hpa = hpas[0];
    if (!hpa) say(deployment, 'no HorizontalPodAutoscaler');
    else {
      if (!hpa.spec.metrics?.some((m) => m.type === 'Resource' && m.resource?.name === 'cpu')) {
        say(hpa, 'does not scale on CPU');
      }
      if ((hpa.spec.behavior?.scaleDown?.stabilizationWindowSeconds ?? 0) < 60) {
        say(hpa, 'no scale-down stabilization of a minute or more (behavior)');
      }
      // Utilization is a share of the request: a tiny request scales on any traffic.
      if (cpuMillis(requests.cpu) < 100) {
        say(
          deployment,
          `cpu request ${requests.cpu} is below 100m: the autoscaler would fire on idle noise`,
        );
      }
    }
  } else if (hpas.length > 0) {
    say(hpas[0] as Hpa, `${app.name} keeps per-connection state and is not autoscaled`);
  }
  if (hpas.length > 1) say(deployment, 'more than one HorizontalPodAutoscaler');
  if (hpas.length > 0 && deployment.spec.replicas !== undefined) {
    say(deployment, 'sets replicas, which would reset its HorizontalPodAutoscaler on every apply');
  }
  return problems;
}

/** `250m` or `1` (cores) as millicores; NaN for anything else. */
function cpuMillis(q: string | undefined): number {
  if (q === undefined) return Number.NaN;
  return q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000;
}

/** Objects that belong to no app, or name an app that does not exist. */
export function strayObjects(objects: readonly K8sObject[], apps: readonly AppDecl[]): string[] {
  const names = new Set(apps.flatMap((a) => [a.name, `${a.name}-config`, `${a.name}-admin`]));
  return objects
    .filter((o) => o.kind !== 'Namespace' && !names.has(o.metadata.name))
    .map((o) => `${idOf(o)}: belongs to no app under apps/`);
}
