// A DNS server for benchmarks: answers every A question with 192.0.2.1,
// TTL 300, every other type with NOERROR and no records (NODATA). Node
// built-ins only, so the wire format is written by hand (RFC 1035 §4.1).
// Usage: node dns-fixture-server.mjs <port> [host]
import dgram from 'node:dgram';

const port = Number(process.argv[2] ?? 5353);
const host = process.argv[3] ?? '127.0.0.1';
const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');

const TYPE_A = 1;
const ADDRESS = [192, 0, 2, 1];
const TTL = 300;

socket.on('message', (query, peer) => {
  if (query.length < 12 || (query[2] & 0x80) !== 0) return; // too short, or a response
  // The question: labels up to the root label, then QTYPE and QCLASS.
  let end = 12;
  while (end < query.length && query[end] !== 0) end += query[end] + 1;
  if (end + 5 > query.length) return;
  const questionEnd = end + 5;
  const qtype = query.readUInt16BE(end + 1);
  const answer = qtype === TYPE_A;
  const reply = Buffer.alloc(questionEnd + (answer ? 16 : 0));
  query.copy(reply, 0, 0, questionEnd);
  // QR, AA, the client's RD, RA; RCODE 0. One question, one answer or none,
  // and no authority or additional records (any EDNS OPT is not echoed).
  reply[2] = 0x84 | (query[2] & 0x01);
  reply[3] = 0x80;
  reply.writeUInt16BE(1, 4);
  reply.writeUInt16BE(answer ? 1 : 0, 6);
  reply.writeUInt16BE(0, 8);
  reply.writeUInt16BE(0, 10);
  if (answer) {
    let o = questionEnd;
    o = reply.writeUInt16BE(0xc00c, o); // the name: a pointer to the question's
    o = reply.writeUInt16BE(TYPE_A, o);
    o = reply.writeUInt16BE(1, o); // class IN
    o = reply.writeUInt32BE(TTL, o);
    o = reply.writeUInt16BE(4, o);
    reply.set(ADDRESS, o);
  }
  socket.send(reply, peer.port, peer.address);
});

socket.bind(port, host);
process.on('SIGTERM', () => socket.close(() => process.exit(0)));
