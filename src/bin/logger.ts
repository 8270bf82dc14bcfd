/**
 * The processes' one logger: JSON lines on stdout (for machines and log
 * shippers) unless stdout is a terminal, where a person is reading and gets
 * pino-pretty's lines. Levels are names (`"level":"info"`), not pino's
 * numbers. Banners and prompts go to stderr, so stdout is only log lines.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

export function loggerOptions(level: string, component: string): LoggerOptions {
  return { level, base: { component }, formatters: { level: (label) => ({ level: label }) } };
}

export function createLogger(level: string, component: string): Logger {
  const options = loggerOptions(level, component);
  if (!process.stdout.isTTY) return pino(options);
  return pino(options, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,component', singleLine: true }));
}
