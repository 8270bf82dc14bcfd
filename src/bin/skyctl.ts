#!/usr/bin/env node
/** skyctl entry point: wires process I/O and Ctrl-C into the CLI. */
import { main } from '../cli/index.js';

const controller = new AbortController();
// Ctrl-C ends watches cleanly (exit 0); a second Ctrl-C forces the exit.
process.once('SIGINT', () => {
  controller.abort();
  process.once('SIGINT', () => process.exit(130));
});

// `skyctl get jobs | head`: a reader that went away is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  stdin: process.stdin,
  signal: controller.signal,
});
process.exitCode = code;
