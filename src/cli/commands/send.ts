/** The last step of every `create` subcommand: POST and print `kind/name created`. */
import { kindOrFail, singularOf, type Io, type Session } from '../runtime.js';

export async function sendCreate(io: Io, session: Session, kindName: string, body: Record<string, unknown>): Promise<void> {
  const kind = kindOrFail(kindName);
  const meta = body.metadata as Record<string, unknown>;
  if (kind.namespaced) meta.namespace = session.namespace;
  const created = await session.client.create(kind, body, { namespace: kind.namespaced ? session.namespace : undefined, signal: io.signal });
  io.stdout.write(`${singularOf(kind)}/${created?.metadata?.name ?? String(meta.name)} created\n`);
}
