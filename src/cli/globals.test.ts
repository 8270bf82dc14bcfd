/**
 * Issue 15: a subcommand's flag never doubles as a global one. Every option
 * spelled like a global flag but declared by a subcommand is listed here (each
 * has its own meaning there), and globalsOf reads only the global ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { buildProgram } from './main.js';
import { globalsOf, isGlobal, type Globals, type Io } from './runtime.js';

const io = (): Io => ({
  stdout: { write: () => true },
  stderr: { write: () => true },
  env: {},
  stdin: new PassThrough(),
  signal: new AbortController().signal,
  home: '/nonexistent',
});
const GLOBAL_FLAGS = new Set(['--server', '--context', '--namespace', '--all-namespaces', '-n', '-A']);

function walk(cmd: Command, path: string[], out: string[]): string[] {
  for (const o of cmd.options)
    if (!isGlobal(o) && [o.long, o.short].some((f) => f !== undefined && GLOBAL_FLAGS.has(f))) out.push(`${[...path, o.long].join(' ')}`);
  for (const sub of cmd.commands) walk(sub, [...path, sub.name()], out);
  return out;
}

test('options spelled like global flags are only the known local ones', async () => {
  assert.deepEqual(walk(await buildProgram(io()), [], []).sort(), [
    'config set-context --namespace',
    'config set-context --server',
    'create cluster --context',
    'create role --namespace',
    'create role --server',
  ]);
});

async function globalsFor(argv: string[]): Promise<Globals> {
  const program = await buildProgram(io());
  let seen: Globals | undefined;
  program.hook('preAction', (_root, action) => {
    seen = globalsOf(action);
    throw new Error('stop before the action');
  });
  await assert.rejects(program.parseAsync(argv, { from: 'user' }), /stop before the action/);
  return seen as Globals;
}

test("create cluster --context is the kubeconfig context, not skyctl's", async () => {
  assert.deepEqual(await globalsFor(['create', 'cluster', 'k', '--manager', 'kubernetes', '--context', 'kube-ctx']), {});
  assert.deepEqual(await globalsFor(['--context', 'prod', 'create', 'cluster', 'k', '--manager', 'kubernetes', '--context', 'kube-ctx']), { context: 'prod' });
  assert.deepEqual(await globalsFor(['get', 'jobs', '--context', 'prod', '-n', 'ml']), { context: 'prod', namespace: 'ml' });
  assert.deepEqual(await globalsFor(['-n', 'ml', 'create', 'role', 'r', '--namespace', 'team-a', '--resource', 'jobs', '--action', 'get']), {
    namespace: 'ml',
  });
});
