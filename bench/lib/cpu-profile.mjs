// Preload (NODE_OPTIONS=--import=<this file>) that CPU-profiles the whole process
// and writes a .cpuprofile into $SKYSHIFT_CPU_PROF_DIR when it exits. Exists because
// Node 20 refuses --cpu-prof in NODE_OPTIONS and the benches start `skyshift up`
// through a shared helper whose node arguments they do not control.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.SKYSHIFT_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  process.on('exit', () => {
    // Same-thread sessions answer synchronously, so this works inside 'exit'.
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(join(dir, `skyshift-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
