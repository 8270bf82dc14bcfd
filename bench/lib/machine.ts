/** One line describing the machine, recorded with every benchmark result. */
import os from 'node:os';

export function describeMachine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  return `${cpus.length} × ${model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}, load avg ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join('/')}`;
}
