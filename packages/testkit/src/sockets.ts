import { createHash } from 'node:crypto';
import net from 'node:net';

/** A TCP connection to 127.0.0.1:port, resolved once connected. */
export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/**
 * One sample of a Prometheus text exposition: the first series of `name`
 * whose labels contain `labels` (e.g. `reason="idle"`), or 0 when there is none.
 */
export async function metricValue(
  registry: { metrics(): Promise<string> },
  name: string,
  labels = '',
): Promise<number> {
  const text = await registry.metrics();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && l.includes(labels) && !l.startsWith('#'));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}
