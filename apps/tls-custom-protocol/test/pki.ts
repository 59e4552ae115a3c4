import {
  createDemoPki,
  type DemoPki,
  PAIR_NAMES,
  type PreparedTls,
  parseCredentials,
} from '@netlab/tls';

export interface TestPki extends DemoPki {
  /** A client certificate of a CA the server does not trust. */
  stranger: { cert: string; key: string };
}

/** The demo PKI of @netlab/tls (the one `pnpm certs` writes), plus a client of another CA. */
export async function makePki(): Promise<TestPki> {
  const [pki, other] = await Promise.all([
    createDemoPki({ clientName: 'test-client', days: 2 }),
    createDemoPki({ caName: 'stranger CA', clientName: 'stranger', days: 2 }),
  ]);
  return { ...pki, stranger: other.client };
}

/** What the app's main.ts prepares from TLS_* variables, from the test PKI. */
export function preparedTls(pki: TestPki, clientAuth?: 'required' | 'optional'): PreparedTls {
  return {
    credentials: parseCredentials(pki.server.cert, pki.server.key, PAIR_NAMES),
    source: { kind: 'generated' },
    clientAuth: clientAuth ? { ca: pki.ca.cert, required: clientAuth === 'required' } : undefined,
    sessionTickets: true,
  };
}
