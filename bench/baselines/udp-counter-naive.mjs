// The naive Node UDP receiver: count every 'message', nothing else. The
// baseline udp-listener's receive path is compared against. A 1-byte
// datagram asks for the count (as bench/c/udp-recv.c answers it).
import dgram from 'node:dgram';

const [port = '41234', host = '127.0.0.1', rcvbuf] = process.argv.slice(2);
const socket = dgram.createSocket({
  type: 'udp4',
  ...(rcvbuf ? { recvBufferSize: Number(rcvbuf) } : {}),
});
let count = 0;
socket.on('message', (msg, rinfo) => {
  if (msg.length === 1) socket.send(String(count), rinfo.port, rinfo.address);
  else count++;
});
// usage: node <this file> <port> [host] [rcvbuf-bytes]
socket.bind(Number(port), host);
process.on('SIGTERM', () => process.exit(0));
