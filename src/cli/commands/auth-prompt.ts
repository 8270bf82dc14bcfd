/** Reads one line from stdin; with a prompt (TTY), without echoing what is typed. */
import type { Io } from '../runtime.js';

export async function readSecret(io: Io, prompt: string | undefined): Promise<string> {
  const stdin = io.stdin as NodeJS.ReadStream;
  const raw = prompt !== undefined && typeof stdin.setRawMode === 'function';
  if (prompt !== undefined) io.stderr.write(prompt);
  if (raw) stdin.setRawMode(true);
  try {
    return await new Promise<string>((resolve, reject) => {
      let text = '';
      const onData = (chunk: Buffer | string) => {
        for (const ch of chunk.toString()) {
          if (ch === '\u0003') return done(new Error('interrupted'));
          if (ch === '\n' || ch === '\r' || ch === '\u0004') return done();
          if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
          else text += ch;
        }
      };
      const onEnd = () => done();
      const done = (err?: Error) => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
        if (err) reject(err);
        else resolve(text);
      };
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      stdin.resume();
    });
  } finally {
    if (raw) {
      stdin.setRawMode(false);
      io.stderr.write('\n');
    }
  }
}
