import { BlockList, isIP } from 'node:net';
import { type ConfigOf, int, oneOf, type Schema, type VarSpec } from '@netlab/common';

/** Peers trusted to send a header, as parsed from PROXY_PROTOCOL_TRUSTED. */
export interface TrustedPeers {
  /** The list as written (normalised), for logs and docs. */
  readonly cidrs: readonly string[];
  has(address: string): boolean;
}

const DEFAULT_TRUSTED = '127.0.0.0/8,::1/128';

/** Parses `10.0.0.0/8,::1/128,192.0.2.7` into a matcher; a bare address is a /32 or /128. */
export function parseTrusted(raw: string): { value: TrustedPeers } | { error: string } {
  const list = new BlockList();
  const cidrs: string[] = [];
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length > 1000) return { error: `expected at most 1000 CIDRs, got ${items.length}` };
  for (const item of items) {
    const slash = item.indexOf('/');
    const address = slash === -1 ? item : item.slice(0, slash);
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefixText = slash === -1 ? String(max) : item.slice(slash + 1);
    const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
    if (family === 0 || !(prefix <= max)) {
      return { error: `expected CIDRs like 10.0.0.0/8 or fd00::/8, got "${item}"` };
    }
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    cidrs.push(`${address}/${prefix}`);
  }
  return {
    value: {
      cidrs,
      has(peer) {
        const family = isIP(peer);
        return family !== 0 && list.check(peer, family === 4 ? 'ipv4' : 'ipv6');
      },
    },
  };
}

function trustedList(doc: string): VarSpec<TrustedPeers> {
  const parsed = parseTrusted(DEFAULT_TRUSTED) as { value: TrustedPeers };
  return {
    kind: 'comma list of CIDRs',
    default: parsed.value,
    doc,
    defaultText: DEFAULT_TRUSTED,
    parse: parseTrusted,
  };
}

/**
 * The PROXY protocol variables of every TCP app: spread into its schema, so
 * each reads the same names with the same meaning and README rows. Not in
 * commonVars: udp-listener has no TCP port to put a balancer in front of.
 */
export function proxyProtocolVars() {
  return {
    PROXY_PROTOCOL: oneOf(
      ['off', 'optional', 'required'] as const,
      'off',
      'PROXY protocol v1/v2 header from an L4 load balancer (HAProxy send-proxy, nginx proxy_protocol, AWS NLB): off ignores it (a header is then just bytes); required closes connections without one; optional reads one when the connection starts with its signature, else serves it as a plain connection.',
    ),
    PROXY_PROTOCOL_TRUSTED: trustedList(
      "Peers (the balancers) allowed to send a PROXY header. A header from any other peer closes the connection, as does any connection from one with PROXY_PROTOCOL=required. Default: loopback only; add your balancer's subnet (e.g. 10.0.0.0/8) behind a real one.",
    ),
    PROXY_PROTOCOL_TIMEOUT_MS: int({
      default: 3000,
      min: 100,
      max: 60_000,
      doc: 'The PROXY header must be complete within this time after the connection opens, or the connection is closed.',
    }),
  } satisfies Schema;
}

export type ProxyProtocolConfig = ConfigOf<ReturnType<typeof proxyProtocolVars>>;
