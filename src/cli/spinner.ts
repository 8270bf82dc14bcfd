/**
 * ora spinner on stderr, only when stderr is a terminal, so piped output stays
 * clean. ora (and chalk under it) loads only when a spinner is shown: it costs
 * 50 ms or more of every start-up otherwise.
 */
import type { Io } from './runtime.js';

export async function withSpinner<T>(io: Io, text: string, wanted: boolean, work: (progress: (text: string) => void) => Promise<T>): Promise<T> {
  if (!wanted || io.stderr.isTTY !== true || io.stderr !== process.stderr) return work(() => {});
  const { default: ora } = await import('ora');
  const spinner = ora({ text, stream: process.stderr }).start();
  try {
    const result = await work((t) => (spinner.text = t));
    spinner.stop();
    return result;
  } catch (err) {
    spinner.stop();
    throw err;
  }
}
