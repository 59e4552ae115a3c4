import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { promisify } from 'node:util';

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

const exec = promisify(execFile);

/**
 * The TCP_NODELAY option (1 or 0) of the one socket this process accepted on
 * `port`, read back from the kernel: `ss -p` names its file descriptor, and
 * perl (in every Debian, perl-base is essential), given that descriptor, asks
 * getsockopt. Node can set the option but never reports it, and Nagle's delay
 * is too small and too timing-bound to observe reliably on loopback.
 */
export async function tcpNoDelayOf(port: number): Promise<number> {
  const { stdout: ss } = await exec('ss', [
    '-tnpH',
    'state',
    'established',
    `( sport = :${port} )`,
  ]);
  const fds = [...ss.matchAll(new RegExp(`pid=${process.pid},fd=(\\d+)`, 'g'))].map((m) => m[1]);
  if (fds.length !== 1)
    throw new Error(`expected one accepted socket on port ${port}, ss says:\n${ss}`);
  const perl = spawn(
    'perl',
    [
      '-MSocket=IPPROTO_TCP,TCP_NODELAY',
      '-e',
      'open(my $s, "+<&=", 3) or die "fd 3: $!"; ' +
        'my $v = getsockopt($s, IPPROTO_TCP, TCP_NODELAY) or die "getsockopt: $!"; ' +
        'print unpack("i", $v)',
    ],
    { stdio: ['ignore', 'pipe', 'pipe', Number(fds[0])] },
  );
  let out = '';
  let err = '';
  perl.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  perl.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const [code] = (await once(perl, 'exit')) as [number];
  if (code !== 0) throw new Error(`perl getsockopt failed: ${err}`);
  return Number(out);
}
