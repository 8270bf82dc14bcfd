/**
 * The docs cannot drift: every shell block of README.md and docs/*.md runs, in
 * order, from a fresh HOME against a fresh `skyshift up` per document (with
 * the arguments the document tells its reader, `<!-- skyshift-up: ... -->`),
 * and must exit 0; an output block marked `<!-- output-of: CMD -->` must match
 * what CMD prints in shape (test/support/doc-blocks.ts). A block this machine
 * cannot run carries `<!-- not-run: REASON -->` and is reported as a skipped
 * test with that reason, never dropped silently.
 *
 * How a block runs: bash -e -o pipefail, cwd a scratch dir with `examples/`
 * linked in, `skyctl`, `skyshift` and `npx skyctl|skyshift` running this
 * tree's sources, HOME the server's (where `up` wrote the context), and the
 * documented default address 127.0.0.1:50051 read as the test server's.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { REPO_ROOT, SKYCTL_BIN, SKYSHIFT_BIN, startSkyShift, type SkyShiftInstance } from './infra/skyshift.js';
import { parseDoc, sameShape, type DocBlock } from './support/doc-blocks.js';

/**
 * Documents other work owns and is rewriting now, whose every block needs
 * other machines: their blocks without a marker are skipped with this reason
 * until the owners add per-block markers (reported like markers).
 */
const PENDING_FILES: Record<string, string> = {
  'docs/agents.md': 'agents on other machines, TLS and systemd (docs/agents.md has no per-block not-run markers yet)',
};

const BLOCK_TIMEOUT_MS = 120_000;
const OUTPUT_WAIT_MS = 90_000;

const docs = [
  'README.md',
  ...readdirSync(join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

function skipReason(block: DocBlock): string | undefined {
  return block.skip ?? PENDING_FILES[block.file];
}

function bash(code: string, env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-e', '-o', 'pipefail', '-c', code], { env, cwd, timeout: BLOCK_TIMEOUT_MS, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code: status, out: `${stdout}${stderr ? `\n[stderr]\n${stderr}` : ''}` });
    });
  });
}

/** `skyctl`, `skyshift` and `npx` on PATH, running this tree's sources. */
function shims(dir: string): string {
  const bin = join(dir, 'docs-bin');
  mkdirSync(bin, { recursive: true });
  const write = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  // tsx by path: the reader's cwd has no node_modules.
  const tsx = join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs');
  write('skyctl', `exec "${process.execPath}" --import "${tsx}" "${SKYCTL_BIN}" "$@"`);
  write('skyshift', `exec "${process.execPath}" --import "${tsx}" "${SKYSHIFT_BIN}" "$@"`);
  write('npx', `case "$1" in skyctl|skyshift) tool="$1"; shift; exec "${bin}/$tool" "$@";; esac\necho "docs test: npx $1 is not provided" >&2; exit 127`);
  return bin;
}

for (const file of docs) {
  const { blocks, upArgs } = parseDoc(file, readFileSync(join(REPO_ROOT, file), 'utf8'));
  if (blocks.length === 0) continue;
  describe(`docs: ${file}`, { concurrency: false }, () => {
    let sky: SkyShiftInstance | undefined;
    let env: NodeJS.ProcessEnv = {};
    let cwd = '';
    const runnable = blocks.some((b) => skipReason(b) === undefined);
    const ready = async (): Promise<SkyShiftInstance> => {
      if (sky) return sky;
      sky = await startSkyShift({ args: upArgs, env: { KUBECONFIG: join('/nonexistent', 'kubeconfig') } });
      cwd = join(sky.dir, 'reader');
      mkdirSync(cwd);
      symlinkSync(join(REPO_ROOT, 'examples'), join(cwd, 'examples'));
      env = {
        ...process.env,
        HOME: sky.dir,
        PATH: `${shims(sky.dir)}:${process.env.PATH}`,
        SKYSHIFT_SERVER: '',
        NO_COLOR: '1',
        KUBECONFIG: join('/nonexistent', 'kubeconfig'),
      };
      return sky;
    };
    after(async () => {
      await sky?.cleanup();
    });

    for (const block of blocks) {
      const reason = skipReason(block);
      const name = `${file}:${block.line}${block.outputOf ? ` output of \`${block.outputOf}\`` : ''}`;
      if (reason !== undefined || !runnable) {
        test(name, { skip: `not run: ${reason ?? 'no runnable block in this document'}` }, () => {});
        continue;
      }
      test(name, async () => {
        const s = await ready();
        const local = (code: string) => code.replaceAll(/(127\.0\.0\.1|localhost):50051/g, `127.0.0.1:${s.port}`);
        if (block.outputOf !== undefined) {
          const deadline = Date.now() + OUTPUT_WAIT_MS;
          let last = { code: -1, out: '' };
          let diff: string | undefined = 'not run yet';
          while (diff !== undefined && Date.now() < deadline) {
            last = await bash(local(block.outputOf), env, cwd);
            diff = last.code === 0 ? sameShape(block.code, last.out) : `exit ${last.code}`;
            if (diff !== undefined) await new Promise((r) => setTimeout(r, 1000));
          }
          assert.equal(diff, undefined, `\`${block.outputOf}\` never printed the documented shape (${diff}); last output:\n${last.out}\n${s.logTail(20)}`);
          return;
        }
        const run = await bash(local(block.code), env, cwd);
        assert.equal(
          run.code,
          0,
          `block at ${file}:${block.line} exited ${run.code}:\n${block.code}\n--- output ---\n${run.out}\n--- skyshift log ---\n${s.logTail(20)}`,
        );
      });
    }
  });
}
