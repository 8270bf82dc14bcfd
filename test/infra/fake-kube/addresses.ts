/**
 * Loopback addresses of the FAKE cluster: pods get 127.<octet>.<hi>.<lo> (hi 0..254), nodes 127.<octet>.255.<n>.
 * Linux routes all of 127.0.0.0/8 to lo, so a pod's process can bind its own IP; a distinct octet per fake keeps two
 * fakes in one test apart.
 */

export class PodAddresses {
  private readonly used = new Set<number>();
  private next = 2;

  constructor(readonly octet: number) {
    if (!Number.isInteger(octet) || octet < 1 || octet > 254) throw new Error(`fake-kube: podIpOctet must be 1..254, got ${octet}`);
  }

  allocate(): string {
    const size = 255 * 256;
    for (let tries = 0; tries < size; tries++) {
      const i = this.next;
      this.next = this.next + 1 >= size ? 2 : this.next + 1;
      if (this.used.has(i) || (i & 255) === 0 || (i & 255) === 255) continue;
      this.used.add(i);
      return `127.${this.octet}.${i >> 8}.${i & 255}`;
    }
    throw new Error('fake-kube: no pod IPs left');
  }

  release(ip: string): void {
    const m = /^127\.\d+\.(\d+)\.(\d+)$/.exec(ip);
    if (m) this.used.delete(Number(m[1]) * 256 + Number(m[2]));
  }

  nodeIp(index: number): string {
    return `127.${this.octet}.255.${(index % 250) + 1}`;
  }
}
