/**
 * The processes' one logger: JSON lines (for machines and log shippers) unless
 * stdout is a terminal, where a person is reading and gets pino-pretty's lines.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export function createLogger(level: string, component: string): Logger {
  const options = { level, base: { component } };
  if (!process.stdout.isTTY) return pino(options);
  return pino(options, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,component', singleLine: true }));
}
