/** The kubelet side of port-forward: a TCP connection to the pod's port, and the error text the kubelet reports. */
import { connect, type Socket } from 'node:net';

const CONNECT_TIMEOUT_MS = 10_000;

/** How Go's net package words the common connect errors (the text kubectl prints after "an error occurred forwarding"). */
function goDialError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connect: connection refused';
    case 'ETIMEDOUT':
      return 'i/o timeout';
    case 'EHOSTUNREACH':
      return 'connect: no route to host';
    case 'EADDRNOTAVAIL':
      return 'connect: cannot assign requested address';
    default:
      return err.message;
  }
}

/** Connects to podIP:port; resolves the socket, or the kubelet's message for the error stream. */
export function dialPod(podIP: string, podName: string, uid: string, port: number): Promise<{ socket: Socket } | { error: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: podIP, port });
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve({ socket });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({
        error:
          `error forwarding port ${port} to pod ${podName}, uid ${uid}: failed to connect to localhost:${port} inside namespace "${podName}", ` +
          `IPv4: dial tcp4 ${podIP}:${port}: ${goDialError(err)}`,
      });
    });
  });
}

/** Ports of a port-forward query, as the kubelet parses them (NewV4Options); a message when they do not parse. */
export function parsePorts(values: string[]): { ports: number[] } | { error: string } {
  if (values.length === 0) return { error: 'query parameter "ports" is required' };
  const ports: number[] = [];
  for (const value of values) {
    if (value === '') return { error: 'query parameter "ports" cannot be empty' };
    for (const p of value.split(',')) {
      const port = /^\d{1,5}$/.test(p) ? Number(p) : NaN;
      if (!(port <= 65535)) return { error: `unable to parse "${value}" as a port: strconv.ParseUint: parsing "${p}": invalid syntax` };
      if (port < 1) return { error: `port "${value}" must be > 0` };
      ports.push(port);
      // Two channels a port and one channel byte: at most 127 ports fit, far more than any client asks.
      if (ports.length > 64) return { error: 'too many ports' };
    }
  }
  return { ports };
}
