import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SkyConfig } from './config.js';
import { applyLogin, contextNameFor, deleteContext, renameContext, viewOf } from './config-contexts.js';

const A = 'http://127.0.0.1:50051';
const B = 'https://sky.example.com:8443';

test('contextNameFor: user@host:port', () => {
  assert.equal(contextNameFor('admin', A), 'admin@127.0.0.1:50051');
  assert.equal(contextNameFor('alice', 'https://sky.example.com'), 'alice@sky.example.com');
});

test('applyLogin: a second server gets a second context, the same user and server is refreshed', () => {
  let cfg: SkyConfig = { contexts: [] };
  const first = applyLogin(cfg, { user: 'admin', server: A, token: 't1' });
  assert.equal(first.name, 'admin@127.0.0.1:50051');
  assert.equal(first.created, true);
  cfg = first.config;
  const second = applyLogin(cfg, { user: 'admin', server: B, token: 't2' });
  assert.equal(second.name, 'admin@sky.example.com:8443');
  cfg = second.config;
  assert.equal(cfg.contexts.length, 2);
  assert.equal(cfg['current-context'], 'admin@sky.example.com:8443');
  const again = applyLogin(
    { ...cfg, contexts: cfg.contexts.map((c) => (c.name === first.name ? { ...c, namespace: 'ml' } : c)) },
    { user: 'admin', server: `${A}/`, token: 't3' },
  );
  assert.equal(again.created, false);
  assert.equal(again.name, first.name);
  assert.deepEqual(
    again.config.contexts.find((c) => c.name === first.name),
    { name: first.name, server: A, namespace: 'ml', user: 'admin', token: 't3' },
  );
  assert.equal(again.config.contexts.find((c) => c.server === B)?.token, 't2', 'the other server keeps its token');
});

test('applyLogin refreshes the context `skyshift up` wrote (admin-default) instead of adding one', () => {
  const cfg: SkyConfig = { contexts: [{ name: 'admin-default', server: A, user: 'admin', token: 'old' }] };
  const r = applyLogin(cfg, { user: 'admin', server: A, token: 'new' });
  assert.equal(r.name, 'admin-default');
  assert.deepEqual(r.config.contexts, [{ name: 'admin-default', server: A, namespace: 'default', user: 'admin', token: 'new' }]);
});

test('applyLogin refuses a name that would change meaning, unless another name is picked', () => {
  const cfg: SkyConfig = { contexts: [{ name: 'prod', server: A, user: 'admin', token: 'a' }] };
  assert.throws(
    () => applyLogin(cfg, { user: 'admin', server: B, token: 'b', name: 'prod' }),
    /context "prod" already exists for user admin on http:\/\/127.0.0.1:50051.*--context-name/,
  );
  assert.throws(() => applyLogin(cfg, { user: 'bob', server: A, token: 'b', name: 'prod' }), /already exists/);
  const ok = applyLogin(cfg, { user: 'admin', server: B, token: 'b', name: 'prod-b' });
  assert.deepEqual(
    ok.config.contexts.map((c) => [c.name, c.token]),
    [
      ['prod', 'a'],
      ['prod-b', 'b'],
    ],
  );
});

test('applyLogin: TLS flags replace each other', () => {
  const cfg: SkyConfig = { contexts: [{ name: 'x', server: B, user: 'u', 'insecure-skip-tls-verify': true }] };
  const r = applyLogin(cfg, { user: 'u', server: B, token: 't', 'certificate-authority': '/ca.pem' });
  assert.deepEqual(r.config.contexts[0], { name: 'x', server: B, user: 'u', namespace: 'default', token: 't', 'certificate-authority': '/ca.pem' });
});

test('delete and rename contexts', () => {
  const cfg: SkyConfig = {
    'current-context': 'a',
    contexts: [
      { name: 'a', server: A },
      { name: 'b', server: B },
    ],
  };
  assert.deepEqual(renameContext(cfg, 'a', 'c'), {
    'current-context': 'c',
    contexts: [
      { name: 'c', server: A },
      { name: 'b', server: B },
    ],
  });
  assert.throws(() => renameContext(cfg, 'a', 'b'), /the context "b" already exists/);
  assert.throws(() => renameContext(cfg, 'z', 'y'), /"z", it's not in the config/);
  assert.deepEqual(deleteContext(cfg, 'a'), { contexts: [{ name: 'b', server: B }] });
  assert.equal(deleteContext(cfg, 'b')['current-context'], 'a');
  assert.throws(() => deleteContext(cfg, 'z'), /no context exists with the name: "z"/);
});

test('viewOf redacts tokens unless raw, and minify keeps only the current context', () => {
  const cfg: SkyConfig = {
    'current-context': 'b',
    contexts: [
      { name: 'a', server: A, token: 'ta' },
      { name: 'b', server: B, token: 'tb' },
    ],
    extra: 1,
  };
  assert.deepEqual(
    viewOf(cfg).contexts.map((c) => c.token),
    ['REDACTED', 'REDACTED'],
  );
  assert.equal(viewOf(cfg).extra, 1);
  assert.deepEqual(viewOf(cfg, { raw: true, minify: true }), { 'current-context': 'b', contexts: [{ name: 'b', server: B, token: 'tb' }] });
  assert.throws(() => viewOf({ contexts: [] }, { minify: true }), /current-context is not set/);
});
