/** What a PROXY header says, v1 or v2, in one shape. */
export interface ProxyHeader {
  version: 1 | 2;
  /** LOCAL: the balancer speaks for itself (health check); serve it as the TCP peer. */
  command: 'PROXY' | 'LOCAL';
  /**
   * v1: TCP4, TCP6 or UNKNOWN. v2: TCP4, TCP6, UDP4, UDP6, UNIX_STREAM,
   * UNIX_DGRAM, or UNSPEC (family or transport unspecified).
   */
  protocol: string;
  /** The real client; null for LOCAL, UNKNOWN and UNSPEC (the TCP peer is the client). */
  source: ProxyEndpoint | null;
  /** The address the client connected to (the balancer's front end). */
  destination: ProxyEndpoint | null;
  /** v2 TLVs in the order sent; empty for v1. */
  tlvs: ProxyTlv[];
  /** Bytes the header took on the wire. */
  length: number;
}

/** An IP endpoint, or a UNIX socket path (port null). */
export interface ProxyEndpoint {
  address: string;
  port: number | null;
}

export interface ProxyTlv {
  type: number;
  /** The specification's name (`ALPN`, `AUTHORITY`, …) or `0xNN` when unknown. */
  name: string;
  /** The raw value, lower-case hex: always present, so an unknown or cloud TLV is still shown. */
  hex: string;
  /** The decoded value where the type is known. */
  value?: unknown;
}
