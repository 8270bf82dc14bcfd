/** Benchmarks run servers with auth on (the default): log in as the generated admin. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestServer } from '../../test/infra/server.js';
import { makeAgent, request } from './http.js';

export async function adminToken(server: TestServer): Promise<string> {
  // The server writes the generated password only to this file under its HOME.
  const password = readFileSync(join(server.dir, '.skyshift', 'admin-password'), 'utf8').trim();
  const agent = makeAgent(1);
  const res = await request(agent, new URL('/login', server.url), 'POST', JSON.stringify({ username: 'admin', password }));
  agent.destroy();
  if (res.status !== 200) throw new Error(`login failed: HTTP ${res.status}`);
  return (JSON.parse(res.body) as { token: string }).token;
}
