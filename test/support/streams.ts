/** Low-level helpers of the exec and port-forward tests: raw HTTP, TCP round trips, processes on the host. */
import { readdir, readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** One raw HTTP exchange: what the server wrote until it closed (or 10 s passed). */
export function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`no close within 10 s; got ${JSON.stringify(got)}`))), 10_000);
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('close', () => (clearTimeout(timer), resolve(got)));
    socket.on('error', () => undefined);
    socket.write(request);
  });
}

/** Whether a process with exactly this argv runs on the host. */
export async function commandRunning(argv: string[]): Promise<boolean> {
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const cmd = await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '');
    const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    if (cmd === argv.join('\0') + '\0' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') return true;
  }
  return false;
}

/** Sends `payload` through the forwarded port and reads as many bytes back. */
export function roundTrip(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let n = 0;
    socket.on('data', (d: Buffer) => {
      got.push(d);
      n += d.length;
      if (n >= payload.length) {
        socket.destroy();
        resolve(Buffer.concat(got));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => n < payload.length && reject(new Error(`closed after ${n} bytes`)));
    socket.write(payload);
  });
}
