// A UDP datagram from source port 0, sent through a raw socket: no reply can reach such a sender
// (Linux refuses a send to port 0 with EINVAL), so it is how the tests make the kernel refuse a
// reply. Node has no raw sockets; python3 does, as root. Loopback only.
import { spawnSync } from 'node:child_process';

const SEND = `
import socket, struct, sys
port, payload = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
# Source port 0; checksum 0 means none (IPv4).
s.sendto(struct.pack('>HHHH', 0, port, 8 + len(payload), 0) + payload, ('127.0.0.1', 0))
`;

/** Sends `payload` to 127.0.0.1:port from port 0; returns why it could not (to skip on), or null once sent. */
export function sendFromPortZero(port: number, payload: Buffer): string | null {
  if (process.getuid?.() !== 0) return 'a raw socket needs root';
  const run = spawnSync('python3', ['-c', SEND, String(port), payload.toString('hex')], { encoding: 'utf8', timeout: 10_000 });
  if (run.error) return `python3 did not run: ${run.error.message}`;
  if (run.status !== 0) return `python3 could not send from a raw socket: ${run.stderr.trim().split('\n').pop()}`;
  return null;
}
