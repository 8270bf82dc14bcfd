/** The verb decides which command modules a run loads (start-up time: bench/cli-startup.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { COMMANDS, entriesFor, verbOf } from './command-table.js';
import { buildProgram, main } from './main.js';

test('the verb is the first word that is no option nor a global option value', () => {
  assert.equal(verbOf(['get', 'jobs']), 'get');
  assert.equal(verbOf(['-n', 'ml', 'get', 'jobs']), 'get');
  assert.equal(verbOf(['--server', 'http://x', '--context', 'c', '-A', 'describe', 'job/a']), 'describe');
  assert.equal(verbOf(['--server=http://x', 'logs', 'a']), 'logs');
  assert.equal(verbOf(['--version']), undefined);
  assert.equal(verbOf([]), undefined);
});

test('a run loads its verb only; --version none; help, completion and unknown verbs all', () => {
  const verbs = (argv: string[]): string[] => entriesFor(argv).flatMap((e) => e.verbs);
  assert.deepEqual(verbs(['get', 'jobs', '--help']), ['get']);
  assert.deepEqual(verbs(['-n', 'x', 'whoami']), ['login', 'register', 'whoami', 'invite', 'revoke-invite']);
  assert.deepEqual(verbs(['help', 'logs']), ['logs']);
  assert.deepEqual(verbs(['--version']), []);
  assert.equal(entriesFor([]), COMMANDS);
  assert.equal(entriesFor(['--help']), COMMANDS);
  assert.equal(entriesFor(['__complete', 'get', '']), COMMANDS);
  assert.equal(entriesFor(['gett']), COMMANDS);
});

test('every verb of the table is a command of the full program, and every command has an entry', async () => {
  const program = await buildProgram(io().io);
  const names = program.commands.map((c) => c.name()).sort();
  const listed = COMMANDS.flatMap((e) => e.verbs).sort();
  assert.deepEqual(listed, names);
});

test('skyctl with one verb loaded behaves as with all: help, suggestions and --version', async () => {
  const version = io();
  assert.equal(await main(['--version'], version.io), 0);
  assert.match(version.out(), /^\d+\.\d+\.\d+/);
  const help = io();
  assert.equal(await main(['get', '--help'], help.io), 0);
  assert.match(help.out(), /Usage: skyctl get/);
  const typo = io();
  assert.equal(await main(['gett'], typo.io), 2);
  assert.match(typo.err(), /Did you mean get\?/);
  const root = io();
  assert.equal(await main(['--help'], root.io), 0);
  for (const verb of ['get', 'create', 'explain', 'login', 'completion']) assert.match(root.out(), new RegExp(`\\n  ${verb}\\b`));
});

function io() {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _e, done) {
        add(chunk.toString());
        done();
      },
    });
  return {
    io: {
      stdout: sink((s) => (out += s)),
      stderr: sink((s) => (err += s)),
      env: {},
      stdin: process.stdin,
      signal: new AbortController().signal,
      home: '/nonexistent',
    },
    out: () => out,
    err: () => err,
  };
}
