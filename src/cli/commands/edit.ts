/**
 * `skyctl edit KIND NAME`: the object's YAML (without status) in $EDITOR, then
 * a PUT carrying the resourceVersion it was read at, so a change made by
 * someone else meanwhile is a Conflict rather than silently overwritten.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import YAML from 'yaml';
import { ApiError, type ApiObject } from '../../client/core.js';
import { ReportedFailure, UsageError, connect, singularOf, type Io } from '../runtime.js';
import { namespaceFor, objectTarget } from './patch.js';

function runEditor(editor: string, file: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    // Through the shell, so EDITOR may carry arguments ("code --wait").
    const child = spawn('/bin/sh', ['-c', `${editor} "$1"`, 'sh', file], { stdio: 'inherit', env });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

function stripComments(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n')
    .trim();
}

export function registerEdit(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  addGlobals(
    program
      .command('edit')
      .description('Edit an object in $EDITOR and save it back (fails on a concurrent change)')
      .argument('<kind>', 'kind, or kind/name')
      .argument('[name]')
      .addHelpText(
        'after',
        `
The editor is $EDITOR (else vi). Status is not shown: controllers write it.

Examples:
  skyctl edit job hello
  EDITOR=nano skyctl edit cluster/laptop`,
      ),
  ).action(async (kindArg: string, nameArg: string | undefined, _o: unknown, cmd: Command) => {
    const { kind, name } = objectTarget(kindArg, nameArg === undefined ? [] : [nameArg], 'edit');
    const s = connect(cmd, io);
    const namespace = namespaceFor(kind, s);
    const ref = `${singularOf(kind)}/${name}`;
    const { status: _status, ...obj } = await s.client.get<ApiObject>(kind, name, { namespace, signal: io.signal });
    const readAt = obj.metadata.resourceVersion;
    const header = `# Edit ${ref} below and save to apply. Lines beginning with '#' are ignored;\n# an unchanged or empty file cancels the edit. Status is not editable.\n#\n`;
    const original = YAML.stringify(obj);
    const file = join(mkdtempSync(join(tmpdir(), 'skyctl-edit-')), `${singularOf(kind)}-${name}.yaml`);
    writeFileSync(file, header + original);
    const code = await runEditor(io.env.EDITOR || io.env.VISUAL || 'vi', file, io.env);
    if (code !== 0) throw new UsageError(`the editor exited with code ${code}; nothing was saved. Your edit is in ${file}`);
    const edited = stripComments(readFileSync(file, 'utf8'));
    if (edited === '' || edited === original.trim()) {
      rmSync(join(file, '..'), { recursive: true, force: true });
      io.stdout.write(edited === '' ? 'Edit cancelled, saved file was empty.\n' : 'Edit cancelled, no changes made.\n');
      return;
    }
    let next: ApiObject;
    try {
      next = YAML.parse(edited) as ApiObject;
      if (!next || typeof next !== 'object' || !next.metadata || typeof next.metadata !== 'object')
        throw new Error('the file must hold one object with metadata');
    } catch (err) {
      io.stderr.write(`error: the edited file is not a valid object: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
      io.stderr.write(`Your edit is in ${file}\n`);
      throw new ReportedFailure('invalid edit');
    }
    next.metadata = { ...next.metadata, resourceVersion: readAt };
    try {
      await s.client.update(kind, next, { namespace, signal: io.signal });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.reason === 'Conflict') {
        io.stderr.write(`error: ${ref} was changed by someone else while you edited it (Conflict); nothing was saved.\n`);
        io.stderr.write(`Your edit is in ${file}: run "skyctl edit ${ref}" again and copy your changes over.\n`);
      } else {
        io.stderr.write(`Error from server (${err.reason}): ${err.message}\n`);
        io.stderr.write(`Your edit is in ${file}\n`);
      }
      throw new ReportedFailure(err.reason);
    }
    rmSync(join(file, '..'), { recursive: true, force: true });
    io.stdout.write(`${ref} edited\n`);
  });
}
