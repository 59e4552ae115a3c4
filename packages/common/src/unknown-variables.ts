import type { Env, Schema } from './config.js';

export interface UnknownVariable {
  /** The variable set in the environment that the app does not read. */
  readonly variable: string;
  /** The app's variable it is most likely a typo of, if any. */
  readonly closest: string | undefined;
}

/**
 * Variables in `env` that look meant for this app but that it does not read:
 * a typo (`MAX_CONECTIONS=5` would otherwise start with the default, and
 * nobody would know) or a name carrying one of the app's own `prefixes`
 * (`HELLO_MESAGE`). Pure: the lifecycle logs one warning for each.
 *
 * An environment holds many variables that are not ours (`HOME`, `PATH`,
 * Kubernetes' service links, npm's and CI's), and the local runner passes
 * every app's variables to every app (`TLS_CERT_FILE` reaches tcp-echo).
 * None of them may warn, so a name counts as a typo only when it is close
 * to one of the app's names by a measure that grows with the name:
 * - at most 1 edit (insert, delete, replace, swap two neighbours) from a
 *   name of 4 to 9 characters, 2 from a longer one, never for shorter ones;
 * - at 2 edits, only with the same first word (`MAX_` in `MAX_CONNECTIONS`),
 *   since another app's names differ from ours in their topic prefix (`TLS_`
 *   against `TCP_`): `HOME` (2 from `HOST`) and `TLS_NODELAY` (2 from
 *   `TCP_NODELAY`) are left alone;
 * - only upper-case names (`npm_config_*` are not ours), and none with a
 *   prefix owned by a tool (`NODE_`, `npm_`, `PNPM_`, `TURBO_`, `DOCKER_`, …)
 *   or shaped like a Kubernetes or Docker service link (`X_SERVICE_HOST`,
 *   `X_PORT=tcp://…`, `X_PORT_80_TCP_ADDR`).
 * A prefix given in `prefixes` must be the app's alone: no other netlab app
 * may use it.
 */
export function unknownVariables(
  schema: Schema,
  env: Env,
  opts: { prefixes?: readonly string[] } = {},
): UnknownVariable[] {
  const known = Object.keys(schema);
  const found: UnknownVariable[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (name in schema || !OURS_IN_FORM.test(name) || isForeign(name, value)) continue;
    const closest = closestName(name, known);
    const prefixed = opts.prefixes?.some((p) => name.startsWith(p)) ?? false;
    if (closest !== undefined || prefixed) found.push({ variable: name, closest });
  }
  return found.sort((a, b) => a.variable.localeCompare(b.variable));
}

const OURS_IN_FORM = /^[A-Z][A-Z0-9_]*$/;
const TOOL_PREFIXES = [
  'NODE_',
  'NPM_',
  'PNPM_',
  'TURBO_',
  'VITEST',
  'DOCKER_',
  'KUBERNETES_',
  'XDG_',
  'SSH_',
  'LC_',
  'GIT_',
  'GITHUB_',
  'CI_',
  'RUNNER_',
];
const SERVICE_LINK = /_SERVICE_(HOST|PORT)(_|$)|_PORT_\d+_(TCP|UDP|SCTP)(_|$)/;
const LINK_VALUE = /^(tcp|udp|sctp):\/\//;

function isForeign(name: string, value: string | undefined): boolean {
  return (
    TOOL_PREFIXES.some((p) => name.startsWith(p)) ||
    SERVICE_LINK.test(name) ||
    LINK_VALUE.test(value ?? '')
  );
}

function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const allowed = candidate.length >= 10 ? 2 : candidate.length >= 4 ? 1 : 0;
    if (Math.abs(candidate.length - name.length) > allowed) continue;
    const d = editDistance(name, candidate);
    if (d > allowed || d >= bestDistance) continue;
    if (d === 2 && firstWord(name) !== firstWord(candidate)) continue;
    best = candidate;
    bestDistance = d;
  }
  return best;
}

const firstWord = (name: string) => name.split('_', 1)[0];

/**
 * Edits from `a` to `b`: insertions, deletions, replacements and swaps of two
 * neighbouring characters (optimal string alignment distance), the typos
 * people make.
 */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
