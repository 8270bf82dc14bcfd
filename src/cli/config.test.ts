import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SERVER, configPath, loadConfig, resolveConnection, saveConfig, saveCurrentContext, setContext, useContext } from './config.js';

const home = () => mkdtempSync(join(tmpdir(), 'skyctl-config-'));

test('saveConfig creates ~/.skyconf 0700 and config.yaml 0600, and round-trips', () => {
  const path = configPath(home());
  const cfg = setContext({ contexts: [] }, { name: 'local', server: 'http://127.0.0.1:1', namespace: 'ml', token: 'secret' });
  saveConfig(cfg, path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700);
  const loaded = loadConfig(path);
  assert.equal(loaded['current-context'], 'local');
  assert.deepEqual(loaded.contexts, [{ name: 'local', server: 'http://127.0.0.1:1', namespace: 'ml', token: 'secret' }]);
  assert.match(readFileSync(path, 'utf8'), /^# skyctl configuration/);
});

test('saveConfig tightens an existing world-readable file and keeps foreign keys', () => {
  const h = home();
  const path = configPath(h);
  mkdirSync(join(h, '.skyconf'), { mode: 0o755 });
  writeFileSync(path, 'users: [{name: a}]\ncontexts: []\n', { mode: 0o644 });
  saveConfig(setContext(loadConfig(path), { name: 'x', server: 'http://h:1' }), path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(loadConfig(path).users, [{ name: 'a' }]);
});

test('resolveConnection: flag beats env beats context beats default', () => {
  const cfg = setContext({ contexts: [] }, { name: 'c', server: 'http://ctx:1', namespace: 'team' });
  assert.equal(resolveConnection({ contexts: [] }, {}, {}).server, DEFAULT_SERVER);
  assert.equal(resolveConnection({ contexts: [] }, {}, {}).namespace, 'default');
  assert.equal(resolveConnection(cfg, {}, {}).server, 'http://ctx:1');
  assert.equal(resolveConnection(cfg, {}, {}).namespace, 'team');
  assert.equal(resolveConnection(cfg, {}, { SKYSHIFT_SERVER: 'http://env:1' }).server, 'http://env:1');
  assert.equal(resolveConnection(cfg, { server: 'http://flag:1', namespace: 'x' }, { SKYSHIFT_SERVER: 'http://env:1' }).server, 'http://flag:1');
  assert.equal(resolveConnection(cfg, { namespace: 'x' }, {}).namespace, 'x');
  assert.throws(() => resolveConnection(cfg, { context: 'nope' }, {}), /context "nope" does not exist/);
});

test('useContext refuses unknown names', () => {
  const cfg = setContext(setContext({ contexts: [] }, { name: 'a', server: 'http://a:1' }), { name: 'b', server: 'http://b:1' });
  assert.equal(cfg['current-context'], 'a', 'the first context becomes current');
  assert.equal(useContext(cfg, 'b')['current-context'], 'b');
  assert.throws(() => useContext(cfg, 'zz'), /no context exists with the name: "zz"/);
});

test('saveCurrentContext writes the context over its namesake, keeps its namespace, and makes it current', () => {
  const path = configPath(home());
  saveConfig(
    {
      'current-context': 'other',
      contexts: [
        { name: 'other', server: 'http://o' },
        { name: 'admin-default', server: 'http://old', namespace: 'ml', token: 'old' },
      ],
      extra: 1,
    },
    path,
  );
  assert.equal(saveCurrentContext({ name: 'admin-default', server: 'http://new', user: 'admin', token: 'fresh' }, path), path);
  const loaded = loadConfig(path);
  assert.equal(loaded['current-context'], 'admin-default');
  assert.equal(loaded.extra, 1);
  assert.deepEqual(loaded.contexts, [
    { name: 'other', server: 'http://o' },
    { name: 'admin-default', server: 'http://new', namespace: 'ml', user: 'admin', token: 'fresh' },
  ]);
  saveCurrentContext({ name: 'local', server: 'http://l' }, path);
  assert.deepEqual(loadConfig(path).contexts.at(-1), { name: 'local', server: 'http://l', namespace: 'default' });
});
