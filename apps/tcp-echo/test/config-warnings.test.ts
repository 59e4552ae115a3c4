import { useApps } from '@netlab/testkit';
import { describe, expect, it } from 'vitest';
import { MAIN } from './helpers.js';

const start = useApps(MAIN);

describe('an unknown variable close to a known one', () => {
  it('gets one warn line naming the variable it is probably a typo of; the process still starts', async () => {
    const app = await start({ MAX_CONECTIONS: '5', HOME: '/root', TLS_CERT_FILE: '/x.pem' });
    const warnings = app.logs.find((l) => l.level === 'warn');
    expect(warnings).toEqual([
      expect.objectContaining({ variable: 'MAX_CONECTIONS', closest: 'MAX_CONNECTIONS' }),
    ]);
  });
});
