/**
 * Agent join tokens (issue 11): `skyctl create cluster NAME --agent` (create.ts)
 * and `skyctl create agent-token CLUSTER` mint one and print the join command;
 * `skyctl revoke-agent-tokens CLUSTER` revokes every token of the cluster
 * (rotation: revoke, then create agent-token). Deleting the cluster revokes
 * them too. The token is shown once (or written to --token-out, mode 0600):
 * the server keeps only a generation, never the token.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError, connect, type Io, type Session } from '../runtime.js';
import { intArg } from './flags.js';

interface Minted {
  cluster: string;
  token: string;
  expiresAt: string;
}

export interface MintOptions {
  ttlSeconds?: number;
  /** Write the token to this file (0600) instead of printing it. */
  tokenOut?: string;
}

/** The two flags every minting command takes. */
export function addMintOptions(cmd: Command): Command {
  return cmd
    .option('--token-ttl-seconds <n>', 'lifetime of the join token (default one year)', intArg('--token-ttl-seconds'))
    .option('--token-out <file>', 'write the join token to this file (mode 0600) instead of printing it');
}

export function mintOptionsOf(o: Record<string, unknown>): MintOptions {
  return {
    ...(o.tokenTtlSeconds !== undefined ? { ttlSeconds: o.tokenTtlSeconds as number } : {}),
    ...(o.tokenOut !== undefined ? { tokenOut: String(o.tokenOut) } : {}),
  };
}

/** Mints a join token for `cluster` and prints it (once) with the command that joins the machine. */
export async function mintAndPrint(io: Io, session: Session, cluster: string, options: MintOptions): Promise<void> {
  const body = options.ttlSeconds !== undefined ? { ttlSeconds: options.ttlSeconds } : {};
  const minted = await session.client.call<Minted>('POST', `/clusters/${encodeURIComponent(cluster)}/agent-tokens`, body, { signal: io.signal });
  if (options.tokenOut !== undefined) {
    writeFileSync(options.tokenOut, minted.token + '\n', { mode: 0o600 });
    chmodSync(options.tokenOut, 0o600);
    io.stdout.write(`Join token for cluster '${cluster}' written to ${options.tokenOut} (mode 0600; expires ${minted.expiresAt}).\n`);
  } else {
    io.stdout.write(`Join token for cluster '${cluster}' (expires ${minted.expiresAt}; shown once, the server does not keep it):\n${minted.token}\n`);
  }
  // node:tls and X.509 parsing load only here: every `skyctl create` registers this module (issue 15: start-up).
  const { fingerprintOf } = await import('../../client/tls-pin.js');
  io.stdout.write(joinHelp(session, cluster, options.tokenOut ?? 'join.token', fingerprintOf));
}

function joinHelp(session: Session, cluster: string, tokenFile: string, fingerprintOf: (pem: Buffer) => string): string {
  const server = session.connection.server;
  const url = new URL(server);
  const args = [`npx skyshift agent --server ${server} --token-file ${tokenFile} --cluster ${cluster}`];
  const notes: string[] = [];
  if (url.protocol === 'https:') {
    const ca = session.connection.certificateAuthority;
    if (ca !== undefined) {
      args.push(`--fingerprint ${fingerprintOf(readCa(ca))}`);
      notes.push(`(or copy ${ca} to the machine and give --ca-file instead of --fingerprint)`);
    } else {
      notes.push("(skyctl's context names no CA: if no public CA signed the server's certificate, give the agent --ca-file or --fingerprint)");
    }
  } else {
    notes.push('(plain http: the token crosses the network in clear; serve HTTPS, e.g. skyshift up --tls)');
  }
  if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    notes.push(
      `(replace ${url.hostname} with an address of this server the machine can reach${url.protocol === 'https:' ? ', one its certificate covers: --tls-san' : ''})`,
    );
  }
  const saved =
    tokenFile === 'join.token'
      ? 'Save the token as join.token (mode 0600) on the machine that joins, then run there:'
      : 'On the machine that joins, with the token file there (mode 0600):';
  return [saved, `  ${args.join(' ')}`, ...notes.map((n) => `  ${n}`), ''].join('\n');
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read the context's certificate-authority ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** `create agent-token CLUSTER` (under `create`) and the `revoke-agent-tokens CLUSTER` verb. */
export function registerAgentTokenCommands(program: Command, io: Io, addGlobals: (c: Command, o?: { context?: boolean }) => Command): void {
  const create = program.commands.find((c) => c.name() === 'create');
  if (create) {
    addMintOptions(
      addGlobals(create.command('agent-token'))
        .description("Mint another join token for an agent cluster (the cluster's other tokens stay valid; revoke them with revoke-agent-tokens)")
        .argument('<cluster>'),
    )
      .addHelpText(
        'after',
        `
Examples:
  skyctl create agent-token lab-gpu
  skyctl revoke-agent-tokens lab-gpu && skyctl create agent-token lab-gpu --token-out lab-gpu.token   # rotate`,
      )
      .action(async (cluster: string, o: Record<string, unknown>, cmd: Command) => mintAndPrint(io, connect(cmd, io), cluster, mintOptionsOf(o)));
  }
  addGlobals(program.command('revoke-agent-tokens'))
    .description('Revoke every join token of an agent cluster at once (its agent is refused from the next request on)')
    .argument('<cluster>')
    .addHelpText(
      'after',
      `
Examples:
  skyctl revoke-agent-tokens lab-gpu`,
    )
    .action(async (cluster: string, _o: unknown, cmd: Command) => {
      const session = connect(cmd, io);
      await session.client.call('DELETE', `/clusters/${encodeURIComponent(cluster)}/agent-tokens`, undefined, { signal: io.signal });
      io.stdout.write(`Join tokens of cluster '${cluster}' revoked.\n`);
    });
}
