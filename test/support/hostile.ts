/**
 * Seeded, deterministic generator of malformed and hostile API requests, written
 * against DESIGN.md sections 3-4 (not against the implementation). Every request
 * it produces must be answered with a 4xx Status.
 */

/** mulberry32: tiny deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface HostileRequest {
  category: string;
  /** Short human description for failure tables. */
  label: string;
  method: string;
  path: string;
  headers?: Record<string, string | number | string[]>;
  body?: string | Buffer;
  /** Raw bytes for a TCP socket; when set, method/path/headers/body are only labels. */
  raw?: Buffer;
  /** Restrict acceptable HTTP codes further than "any 4xx". */
  expect?: number[];
  /** Watch-like requests: read only headers and a little body. */
  headersOnly?: boolean;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export const FIXTURE_JOBS = ['fixture-0', 'fixture-1', 'fixture-2', 'fixture-3', 'fixture-4'];

const MiB = 1024 * 1024;

export function validJob(name: string): Record<string, Json> {
  return {
    kind: 'Job',
    metadata: { name, labels: { app: 'hostile' }, annotations: { note: 'x' } },
    spec: {
      image: 'ubuntu:22.04',
      run: 'echo hi',
      envs: { A: 'b' },
      replicas: 1,
      resources: { cpus: 1, memory: 128 },
      restartPolicy: 'Never',
      placement: {
        filters: [{ name: 'f', matchLabels: { zone: 'a' }, matchExpressions: [{ key: 'k', operator: 'In', values: ['v'] }] }],
        preferences: [{ name: 'p', matchLabels: { zone: 'a' }, weight: 10 }],
      },
      priority: 0,
      maxPendingSeconds: 60,
    },
  };
}
export function validCluster(name: string): Record<string, Json> {
  return { kind: 'Cluster', metadata: { name, labels: { tier: 'x' } }, spec: { manager: 'local', config: { cpus: 2, memory: 1024 } } };
}
export function validFilterPolicy(name: string): Record<string, Json> {
  return { kind: 'FilterPolicy', metadata: { name }, spec: { clusterFilter: { include: ['a'], exclude: ['b'] }, labelsSelector: { app: 'x' } } };
}
export function validNamespace(name: string): Record<string, Json> {
  return { kind: 'Namespace', metadata: { name } };
}
export function validService(name: string): Record<string, Json> {
  return { kind: 'Service', metadata: { name }, spec: { type: 'ClusterIP', selector: { app: 'x' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } };
}
export function validLink(name: string): Record<string, Json> {
  return { kind: 'Link', metadata: { name }, spec: { sourceCluster: 'a', targetCluster: 'b' } };
}

interface KindDef {
  kind: string;
  plural: string;
  namespaced: boolean;
  make: (name: string) => Record<string, Json>;
  /** field path -> values that are wrong for it */
  bad: [string, Json[]][];
}

const COMMON_BAD: [string, Json[]][] = [
  ['kind', [null, 42, [], {}, true, 'Nonsense']],
  ['metadata', [null, 'x', [], 42, true]],
  ['metadata.name', [null, 42, [], {}, true]],
  ['metadata.labels', ['a=b', [], 42, { a: {} }, { a: null }, { a: [] }]],
  ['metadata.annotations', ['x', [], 42, { a: {} }, { a: null }]],
  ['bogusTopLevel', [1, 'x']],
  ['metadata.bogusMeta', [1, 'x']],
];

export const KIND_DEFS: KindDef[] = [
  {
    kind: 'Job',
    plural: 'jobs',
    namespaced: true,
    make: validJob,
    bad: [
      ...COMMON_BAD,
      ['metadata.namespace', [42, [], {}, 'some-other-ns']],
      ['spec', ['x', [], 42, true]],
      ['spec.image', [42, [], {}, true]],
      ['spec.imagePullPolicy', [42, [], {}]],
      ['spec.run', [42, [], {}, true]],
      ['spec.envs', ['A=B', [], 42, { A: {} }, { A: [] }, { A: null }]],
      ['spec.ports', ['8080', {}, 42, [-1], [70000], [1.5], [null]]],
      ['spec.replicas', ['three', -1, 0, 1.5, -0.5, [], {}, true, 'NaN', 1e300]],
      [
        'spec.resources',
        [
          'cpus=1',
          [],
          42,
          { cpus: 'lots' },
          { cpus: -1 },
          { memory: '-5Gi' },
          { memory: 'lots' },
          { memory: '1.5XB' },
          { gpus: -1 },
          { cpus: [] },
          { memory: {} },
          { A100: -2 },
          { A100: 'x' },
          { cpu: -3 },
          { disk: 'huge' },
        ],
      ],
      ['spec.restartPolicy', ['Sometimes', 42, [], {}]],
      [
        'spec.placement',
        [
          'x',
          [],
          42,
          { filters: 'x' },
          { filters: {} },
          { filters: [{ name: 42 }] },
          { filters: [{ matchLabels: [] }] },
          { filters: [{ matchExpressions: [{ key: 'k', operator: 'Maybe', values: [] }] }] },
          { filters: [{ matchExpressions: 'x' }] },
          { filters: [{ matchExpressions: [{ key: 42, operator: 'In', values: ['a'] }] }] },
          { filters: [{ matchExpressions: [{ key: 'k', operator: 'In', values: 'a' }] }] },
          { preferences: [{ name: 'p', weight: 0 }] },
          { preferences: [{ name: 'p', weight: 101 }] },
          { preferences: [{ name: 'p', weight: 'x' }] },
          { preferences: [{ name: 'p', weight: 1.5 }] },
          { preferences: {} },
          { bogusPlacement: 1 },
        ],
      ],
      ['spec.priority', ['high', 1.5, [], {}, true]],
      ['spec.volumes', ['x', 42, true]],
      ['spec.maxPendingSeconds', ['soon', -1, [], {}]],
      ['spec.bogusSpecField', [1, 'x', {}]],
    ],
  },
  {
    kind: 'Cluster',
    plural: 'clusters',
    namespaced: false,
    make: validCluster,
    bad: [
      ...COMMON_BAD,
      ['spec', ['x', [], 42]],
      ['spec.manager', ['mainframe', 42, [], null, {}]],
      ['spec.config', ['x', 42, []]],
      ['spec.bogusSpecField', [1]],
    ],
  },
  {
    kind: 'FilterPolicy',
    plural: 'filterpolicies',
    namespaced: true,
    make: validFilterPolicy,
    bad: [
      ...COMMON_BAD,
      ['spec', ['x', [], 42]],
      ['spec.clusterFilter', ['x', [], 42]],
      ['spec.clusterFilter.include', ['a', 42, {}, [42], [null], [{}]]],
      ['spec.clusterFilter.exclude', ['a', 42, {}, [42], [null]]],
      ['spec.labelsSelector', [[], 42, 'a=b', { a: {} }, { a: null }, { a: [] }]],
      ['spec.bogusSpecField', [1]],
    ],
  },
  {
    kind: 'Namespace',
    plural: 'namespaces',
    namespaced: false,
    make: validNamespace,
    bad: [...COMMON_BAD, ['spec', ['x', 42, []]]],
  },
  {
    kind: 'Service',
    plural: 'services',
    namespaced: true,
    make: validService,
    bad: [
      ...COMMON_BAD,
      ['spec', ['x', [], 42]],
      ['spec.type', ['Teleport', 42, []]],
      ['spec.selector', ['a', [], { a: {} }, 42]],
      ['spec.ports', ['80', {}, 42, [{ port: -1 }], [{ port: 70000 }], [{ port: 'http' }], [{ port: 80, protocol: 'SCTP-ish' }]]],
      ['spec.bogusSpecField', [1]],
    ],
  },
  {
    kind: 'Link',
    plural: 'links',
    namespaced: false,
    make: validLink,
    bad: [...COMMON_BAD, ['spec', ['x', [], 42]], ['spec.sourceCluster', [42, [], {}]], ['spec.targetCluster', [42, [], {}]], ['spec.bogusSpecField', [1]]],
  },
];

function setPath(obj: Record<string, Json>, path: string, value: Json): Record<string, Json> {
  const copy = JSON.parse(JSON.stringify(obj)) as Record<string, Json>;
  const parts = path.split('.');
  let cur: Record<string, Json> = copy;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[p] = {};
    cur = cur[p] as Record<string, Json>;
  }
  cur[parts[parts.length - 1]!] = value;
  return copy;
}

function collectionPath(k: KindDef, ns = 'default'): string {
  return k.namespaced ? `/${ns}/${k.plural}` : `/${k.plural}`;
}

const BAD_NAMES: string[] = [
  'Hello',
  'UPPER',
  'a'.repeat(64),
  'a'.repeat(300),
  'a.b',
  'ünïcødé',
  '',
  '..',
  '.',
  '-a',
  'a-',
  'a_b',
  'a b',
  'a/b',
  '日本',
  'a\u0000b',
  '\u202eevil',
  '\ud800',
  'a\nb',
  '%2e%2e',
  'a%2Fb',
];

const BAD_SELECTORS = [
  'a in (',
  '=b',
  // Not 'a==': as in Kubernetes, an empty value is a valid label value, so
  // `a==` means "label a equals the empty string" and is accepted (200).
  // DESIGN section 4 uses the Kubernetes selector syntax; 'a===' is malformed.
  'a===',
  '!',
  'ü=ö',
  'a in x',
  'a,,b',
  '(',
  'a notin',
  'a!',
  'a in (x,',
  '!a=b',
  ' in (x)',
  'a in ()',
  'a=b)',
  'a=(b)',
  ',',
  'a=b c',
  '=',
  '!=',
  'a notin (x',
  '🙂',
  'a=🙂',
  'a in (🙂)',
  'a\u0000=b',
  'a=b,',
  'a in (x))',
  '!!a',
];

const BAD_RVS = ['abc', '-1', '1e99', '99999999999999999999999999', '1.5', '0x10', ' ', 'NaN', 'Infinity', '\u0000', '../1', '1;2'];
const BAD_LIMITS = ['-1', 'abc', '1e99', '1.5', '99999999999999999999999', ' ', '0x10', 'NaN', 'Infinity', '-5'];
const BAD_CONTINUES = [
  'garbage',
  '!!!',
  Buffer.from('{"x":1}').toString('base64'),
  Buffer.from('/registry/jobs/default/zzz').toString('base64'),
  '%FF',
  '..%2F..%2Fregistry',
  'x'.repeat(5000),
  Buffer.from('{"rv":"abc","start":"/registry/clusters/"}').toString('base64url'),
];

function billionLaughs(levels: number): string {
  const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < levels; i++)
    lines.push(
      `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(',')}]`,
    );
  return `kind: Job\nmetadata:\n  name: laughs\n  annotations:\n    x: "y"\nspec:\n  run: echo\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

function deepJson(depth: number, open: string, close: string, inner = '1'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

/** Build the whole deterministic request list. */
export function generate(seed: number, count: number): HostileRequest[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  let n = 0;
  const uniq = (p: string) => `${p}-${(n++).toString(36)}`;
  const fixture = () => pick(FIXTURE_JOBS);
  const json = (method: string, path: string, body: string, extra: Partial<HostileRequest> = {}): Omit<HostileRequest, 'category'> => ({
    label: `${method} ${path} ${body.length > 120 ? body.slice(0, 100) + `…(${body.length}B)` : body}`,
    method,
    path,
    headers: { 'content-type': 'application/json' },
    body,
    ...extra,
  });
  const yaml = (method: string, path: string, body: string, extra: Partial<HostileRequest> = {}): Omit<HostileRequest, 'category'> => ({
    ...json(method, path, body, extra),
    headers: { 'content-type': 'application/yaml' },
  });
  const raw = (label: string, bytes: string | Buffer): Omit<HostileRequest, 'category'> => ({
    label,
    method: 'RAW',
    path: '',
    raw: typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes,
  });

  const gens: [string, number, () => Omit<HostileRequest, 'category'>][] = [
    [
      'broken-json',
      14,
      () => {
        const good = JSON.stringify(validJob(uniq('bj')));
        const v = Math.floor(rnd() * 22);
        const p = '/default/jobs';
        switch (v) {
          case 0:
            return json('POST', p, good.slice(0, 1 + Math.floor(rnd() * (good.length - 2))));
          case 1:
            return json('POST', p, good + pick(['x', '}', '{}', ']', ',', '"', 'null', '\u0000']));
          case 2:
            return json('POST', p, good.replace(/"/g, "'"));
          case 3:
            return json('POST', p, good.replace(/}$/, ',}'));
          case 4:
            return json(
              'POST',
              p,
              good.replace('"replicas":1', `"replicas":${pick(['NaN', 'Infinity', '-Infinity', 'undefined', '+1', '01', '.5', '1.', '0x1'])}`),
            );
          case 5:
            return json('POST', p, good.replace('"kind"', 'kind'));
          case 6:
            return json('POST', p, `/* c */${good}`);
          case 7:
            return json('POST', p, good.replace('"spec":{', `"spec":{"deep":${deepJson(10_000, '{"a":', '}')},`));
          case 8:
            return json('POST', p, deepJson(10_000, '[', ']'));
          case 9:
            return json('POST', p, good.replace('"envs":{"A":"b"}', `"envs":${deepJson(10_000, '{"a":', '}')}`));
          case 10:
            // duplicate keys, both values invalid
            return json('POST', p, good.replace('"replicas":1', '"replicas":-1,"replicas":"x"'));
          case 11:
            return json('POST', p, good.replace(/"name":"bj-[^"]*"/, '"name":"Bad_Name","name":"Also Bad"'));
          case 12:
            return json('POST', p, good.replace('"replicas":1', '"replicas":1e309'));
          case 13:
            return json('POST', p, good.replace('"run":"echo hi"', '"run":"echo \u0001\u0002 hi"'));
          case 14:
            return json('POST', p, good.replace('"run":"echo hi"', '"run":"\\x41\\q"'));
          case 15:
            return json('POST', p, pick(['', ' ', '\n', '-', 'undefined', 'nul', 'tru', '{', '[', '"', '{"', '{"kind":']));
          case 16: {
            const bytes = Buffer.alloc(200 + Math.floor(rnd() * 800));
            for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rnd() * 256);
            return { ...json('POST', p, ''), label: `POST ${p} <${bytes.length} random bytes>`, body: bytes };
          }
          case 17: {
            const s = good.replace(/"name":"[^"]*"/, '"name":"XX"');
            const b = Buffer.from(s, 'utf8');
            const i = b.indexOf('XX');
            b[i] = 0xff;
            b[i + 1] = 0xfe;
            return { ...json('POST', p, s), label: `POST ${p} name with invalid UTF-8 bytes`, body: b };
          }
          case 18:
            return json('PUT', `/default/jobs/${fixture()}`, good.slice(0, Math.floor(good.length / 2)));
          case 19:
            return json('POST', '/clusters', JSON.stringify(validCluster(uniq('c'))).slice(0, -1));
          case 20:
            return json('POST', p, `{"kind":"Job","metadata":{"name":"${uniq('dq')}"},"spec":{"run":"echo"},"__proto__":{"polluted":true}}`);
          default:
            return json('POST', p, `{"kind":"Job","metadata":{"name":"${uniq('dq')}"},"spec":{"run":"echo"},"constructor":{"prototype":{"polluted":true}}}`);
        }
      },
    ],
    [
      'broken-yaml',
      10,
      () => {
        const p = '/default/jobs';
        const name = uniq('by');
        const v = Math.floor(rnd() * 18);
        switch (v) {
          case 0:
            return yaml('POST', p, `{kind: Job, metadata: {name: ${name}}, spec: {run: echo`);
          case 1:
            return yaml('POST', p, `kind: Job\nmetadata:\n\tname: ${name}\nspec:\n  run: echo\n`);
          case 2:
            return yaml('POST', p, `kind: "Job\nmetadata:\n  name: ${name}\n`);
          case 3:
            return yaml('POST', p, billionLaughs(pick([6, 8, 9])));
          case 4:
            return yaml('POST', p, `kind: Job\nmetadata:\n  name: ${name}\nspec:\n  run: *nope\n`);
          case 5:
            return yaml('POST', p, `kind: Job\nmetadata:\n  name: ${name}\nspec: !!js/function "function(){ return process.exit(1) }"\n`);
          case 6:
            return yaml('POST', p, `kind: Job\nmetadata:\n  name: ${name}\nspec:\n  run: echo\n  replicas: !!binary aGVsbG8=\n`);
          case 7:
            return yaml('POST', p, `kind: Job\nmetadata: !!python/object/apply:os.system ["id"]\nspec:\n  run: echo\n`);
          case 8:
            return yaml('POST', p, `kind: Job\nmetadata:\n  name: ${name}\nspec:\n  run: echo\n  replicas: ${pick(['.nan', '.inf', '-.inf', '.NaN'])}\n`);
          case 9:
            return yaml('POST', p, pick(['just a string', '- a\n- b\n', '~', '42', 'true', '""', '---\n...\n']));
          case 10:
            return yaml('POST', p, `kind: Job\nmetadata:\n  name: ${name}\nspec:\n  run: echo\n  envs: ${deepJson(10_000, '[', ']')}\n`);
          case 11:
            return yaml('POST', p, `kind: Job\nmetadata:\n  name: ${name}\nspec:\n  replicas: -1\n  replicas: abc\n  run: echo\n`);
          case 12:
            return yaml(
              'POST',
              p,
              `kind: Job\nmetadata:\n  name: ${name}\nspec:\n  replicas: -1\n  run: echo\n---\nkind: Job\nmetadata:\n  name: BAD\nspec:\n  replicas: x\n`,
            );
          case 13:
            return yaml('POST', p, `base: &b\n  bogus: 1\nkind: Job\nmetadata:\n  name: ${name}\nspec:\n  <<: *b\n  run: echo\n`);
          case 14:
            return yaml('POST', p, `kind: Job\nmetadata:\n  name: !!binary aGVsbG8=\nspec:\n  run: echo\n`);
          case 15:
            return yaml('POST', p, `kind: Job\n  metadata:\n name: ${name}\n   spec: x\n`);
          case 16:
            return yaml('POST', p, `kind: Job\nmetadata:\n  name: ${name}\nspec:\n  run: !<tag:yaml.org,2002:js/undefined> x\n  replicas: !!float 1.5\n`);
          default:
            return yaml('PUT', `/default/jobs/${fixture()}`, `kind: Job\nmetadata: [\nspec: {`);
        }
      },
    ],
    [
      'wrong-types',
      26,
      () => {
        const k = pick(KIND_DEFS);
        const [path, values] = pick(k.bad);
        const value = pick(values);
        const body = setPath(k.make(uniq('wt')), path, value);
        let text = JSON.stringify(body);
        if (typeof value === 'number' && value === 1e300) text = text.replace('1e+300', '1e309');
        const r = json('POST', collectionPath(k), text);
        return { ...r, label: `POST ${collectionPath(k)} ${k.kind} ${path}=${JSON.stringify(value)}` };
      },
    ],
    [
      'wrong-types-put',
      5,
      () => {
        const k = KIND_DEFS[0]!;
        const [path, values] = pick(k.bad.filter(([p]) => p !== 'metadata.name' && p !== 'metadata'));
        const value = pick(values);
        const name = fixture();
        const body = setPath(k.make(name), path, value);
        return { ...json('PUT', `/default/jobs/${name}`, JSON.stringify(body)), label: `PUT /default/jobs/${name} ${path}=${JSON.stringify(value)}` };
      },
    ],
    [
      'invalid-names',
      9,
      () => {
        const k = pick(KIND_DEFS.filter((d) => d.kind !== 'Cluster'));
        const bad = rnd() < 0.03 ? 'x'.repeat(MiB) : pick(BAD_NAMES);
        const body = JSON.stringify(k.make(bad));
        const r = json('POST', collectionPath(k), body);
        return { ...r, label: `POST ${collectionPath(k)} ${k.kind} name=${JSON.stringify(bad.length > 40 ? bad.slice(0, 10) + `…(${bad.length})` : bad)}` };
      },
    ],
    [
      'reserved-names',
      1,
      () => {
        const v = pick(['jobs', 'clusters', 'namespaces', 'filterpolicies', 'links', 'healthz', 'metrics']);
        return json('POST', '/namespaces', JSON.stringify(validNamespace(v)));
      },
    ],
    [
      'name-mismatch',
      2,
      () => {
        const name = fixture();
        const v = Math.floor(rnd() * 3);
        if (v === 0) return json('PUT', `/default/jobs/${name}`, JSON.stringify(validJob('someone-else')));
        if (v === 1) return json('PUT', `/default/jobs/${name}`, JSON.stringify(setPath(validJob(name), 'metadata.namespace', 'kube-system')));
        return json('POST', '/default/jobs', JSON.stringify(setPath(validJob(uniq('nm')), 'metadata.namespace', 'elsewhere')));
      },
    ],
    [
      'bad-selectors',
      8,
      () => {
        const sel = pick(BAD_SELECTORS);
        const q = `labelSelector=${encodeURIComponent(sel)}`;
        const path = pick([`/default/jobs?${q}`, `/jobs?${q}`, `/clusters?${q}`, `/default/jobs?watch=true&${q}`, `/clusters?watch=true&${q}`]);
        return { label: `GET ${path} (${JSON.stringify(sel)})`, method: 'GET', path, headersOnly: path.includes('watch') };
      },
    ],
    [
      'unknown-paths',
      7,
      () => {
        const paths: [string, string][] = [
          ['GET', '/default/widgets'],
          ['GET', '/default/widgets/x'],
          ['POST', '/default/widgets'],
          ['GET', '/widgets/x/y'],
          ['GET', '/default/jobs/x/y/z'],
          ['POST', `/default/jobs/${fixture()}/bogus`],
          ['GET', `/default/jobs/${fixture()}/status/extra`],
          ['GET', `/default/jobs/${uniq('nonexistent')}`],
          ['DELETE', `/default/jobs/${uniq('nonexistent')}`],
          ['GET', `/clusters/${uniq('nonexistent')}`],
          ['DELETE', `/namespaces/${uniq('nonexistent')}`],
          ['GET', '/default'],
          ['GET', `/jobs/${fixture()}`],
          ['GET', '/namespaces/default/jobs'],
          ['GET', '/api/v1/namespaces/default/jobs'],
          ['GET', '/default/namespaces'],
          ['GET', '/default/clusters'],
          ['GET', `/${uniq('no-such-ns')}/jobs/x`],
          ['GET', `/default/jobs/${uniq('nonexistent')}/logs`],
          ['GET', `/default/filterpolicies/${uniq('nonexistent')}`],
          ['GET', '/.env'],
          ['GET', '/admin'],
          ['GET', '/default/jobs/x?watch=true&resourceVersion=1&extra=' + 'z'.repeat(20)],
        ];
        const [method, path] = pick(paths);
        if (path.includes('watch=true'))
          return { label: `${method} ${path}`, method, path: path.replace('/default/jobs/x', `/default/widgets/x`), headersOnly: true };
        return { label: `${method} ${path}`, method, path };
      },
    ],
    [
      'route-misuse',
      3,
      () => {
        const v = Math.floor(rnd() * 4);
        if (v === 0) return json('POST', '/default/clusters', JSON.stringify(validCluster(uniq('rm'))));
        if (v === 1) return json('POST', '/jobs', JSON.stringify(setPath(validJob(uniq('rm')), 'metadata.namespace', 'default')));
        if (v === 2) return json('POST', '/default/namespaces', JSON.stringify(validNamespace(uniq('rm'))));
        return json('POST', '/filterpolicies', JSON.stringify(validFilterPolicy(uniq('rm'))));
      },
    ],
    [
      'path-traversal',
      8,
      () => {
        const paths = [
          '/default/jobs/..',
          '/default/jobs/%2e%2e',
          '/default/jobs/%2E%2E/%2E%2E/etc/passwd',
          '/default/jobs/a%2Fb',
          '/default/jobs/a%252Fb',
          '/default/jobs/..%2F..%2Fregistry',
          '/%2e%2e/%2e%2e/etc/passwd',
          '/default/jobs/../../etc/passwd',
          '/default/jobs/nonexistent-x/../../../registry/jobs',
          '/default%2Fjobs/' + fixture(),
          `/default/jobs/${fixture()}%00`,
          '/default/jobs/%00',
          '/default/jobs/%ff',
          '/default/jobs/%',
          '/default/jobs/%zz',
          `/default/jobs/${fixture()}%2F..%2F..%2Fclusters`,
          '/..',
          '/default/jobs/../jobs/nonexistent-y',
          '/default/jobs/%252e%252e',
          '/default/jobs/.%2e/.%2e/clusters',
          '/default/jobs/%c0%ae%c0%ae/x',
        ];
        const path = pick(paths);
        const method = pick(['GET', 'GET', 'DELETE', 'PUT']);
        if (method === 'PUT') return json('PUT', path, JSON.stringify(validJob('traversal')));
        return { label: `${method} ${path}`, method, path };
      },
    ],
    [
      'content-types',
      7,
      () => {
        const body = JSON.stringify(validJob(uniq('ct')));
        const v = Math.floor(rnd() * 9);
        const p = '/default/jobs';
        const withCt = (ct: string | undefined, expect?: number[], method = 'POST', path = p, b = body): Omit<HostileRequest, 'category'> => ({
          label: `${method} ${path} content-type=${ct ?? '<none>'}`,
          method,
          path,
          headers: ct === undefined ? {} : { 'content-type': ct },
          body: b,
          expect,
        });
        switch (v) {
          case 0:
            return withCt('text/plain', [415]);
          case 1:
            return withCt('multipart/form-data; boundary=xyz', [415]);
          case 2:
            return withCt('application/x-www-form-urlencoded', [415]);
          case 3:
            return withCt('application/xml', [415]);
          case 4:
            return withCt(undefined, [400, 415]);
          case 5:
            return withCt(pick(['application/jsonx', 'json', 'application/json-seq', 'image/png', 'application/octet-stream']), [415]);
          case 6:
            return withCt('text/plain', [415], 'PATCH', `/default/jobs/${fixture()}`, '{"spec":{"priority":5}}');
          case 7:
            return withCt(
              pick(['application/strategic-merge-patch+json', 'application/apply-patch+yaml']),
              [415],
              'PATCH',
              `/default/jobs/${fixture()}`,
              '{"spec":{"priority":5}}',
            );
          default:
            return withCt('text/plain', [415], 'PUT', `/default/jobs/${fixture()}`, JSON.stringify(validJob('fixture-0')));
        }
      },
    ],
    [
      'bad-resource-version',
      9,
      () => {
        const rv = pick(BAD_RVS);
        const q = encodeURIComponent(rv);
        const name = fixture();
        const v = Math.floor(rnd() * 6);
        if (v === 0)
          return { label: `GET list watch rv=${JSON.stringify(rv)}`, method: 'GET', path: `/default/jobs?watch=true&resourceVersion=${q}`, headersOnly: true };
        if (v === 1)
          return {
            label: `GET object watch rv=${JSON.stringify(rv)}`,
            method: 'GET',
            path: `/default/jobs/${name}?watch=true&resourceVersion=${q}`,
            headersOnly: true,
          };
        if (v === 2) {
          const body = setPath(validJob(name), 'metadata.resourceVersion', pick<Json>([rv, 42, [], {}]));
          return json('PUT', `/default/jobs/${name}`, JSON.stringify(body));
        }
        if (v === 3)
          return { label: `DELETE ${name}?resourceVersion=${JSON.stringify(rv)}`, method: 'DELETE', path: `/default/jobs/${name}?resourceVersion=${q}` };
        if (v === 4)
          return {
            ...json('PATCH', `/default/jobs/${name}?resourceVersion=${q}`, '{"spec":{"priority":3}}'),
            headers: { 'content-type': 'application/merge-patch+json' },
          };
        return { label: `GET /clusters watch rv=${JSON.stringify(rv)}`, method: 'GET', path: `/clusters?watch=true&resourceVersion=${q}`, headersOnly: true };
      },
    ],
    [
      'bad-limit-continue',
      6,
      () => {
        if (rnd() < 0.5) {
          const l = pick(BAD_LIMITS);
          const path = pick(['/default/jobs', '/jobs', '/clusters']) + `?limit=${encodeURIComponent(l)}`;
          return { label: `GET ${path}`, method: 'GET', path };
        }
        const c = pick(BAD_CONTINUES);
        const path = pick(['/default/jobs', '/jobs', '/namespaces']) + `?limit=1&continue=${c.includes('%') ? c : encodeURIComponent(c)}`;
        return { label: `GET ${path.slice(0, 120)}`, method: 'GET', path };
      },
    ],
    [
      'bad-patch',
      10,
      () => {
        const name = fixture();
        const path = `/default/jobs/${name}`;
        if (rnd() < 0.4) {
          const b = pick([
            '{"spec":',
            '[]',
            '42',
            '"x"',
            'null',
            '{"spec":{"replicas":"x"}}',
            '{"spec":{"replicas":-3}}',
            '{"metadata":{"name":"renamed"}}',
            '{"metadata":{"namespace":"other"}}',
            '{"kind":"Cluster"}',
            '{"spec":{"bogus":1}}',
            '{"metadata":{"uid":"evil-uid"}}',
            '{"metadata":{"resourceVersion":"abc"}}',
            '{"spec":{"resources":{"cpus":-1}}}',
            '{"__proto__":{"polluted":true}}',
            '{"spec":{"__proto__":{"polluted":true}}}',
            '{"metadata":{"labels":{"a":{}}}}',
          ]);
          return { ...json('PATCH', path, b), headers: { 'content-type': 'application/merge-patch+json' }, label: `PATCH merge ${name} ${b}` };
        }
        const b = pick([
          '[{"op":"explode","path":"/spec/replicas","value":2}]',
          '[{"op":"replace","path":"/metadata/uid","value":"x"}]',
          '[{"op":"remove","path":"/metadata/uid"}]',
          '[{"op":"replace","path":"spec/replicas","value":2}]',
          '[{"op":"replace","path":"/spec/replicas"}]',
          '[{"op":"add","path":"/spec/nope/deeper","value":1}]',
          '[{"op":"test","path":"/spec/replicas","value":999}]',
          '[{"op":"move","from":"/nope","path":"/spec/x"}]',
          '{"op":"replace","path":"/spec/replicas","value":2}',
          '[42]',
          '[null]',
          '[{"op":"replace","path":"/kind","value":"Cluster"}]',
          '[{"op":"replace","path":"/spec/replicas","value":-5}]',
          '[{"op":"add","path":"/spec/bogus","value":1}]',
          '[{"op":"replace","path":"/metadata/namespace","value":"other"}]',
          '[{"op":"copy","from":"/metadata","path":"/spec/metadata"}]',
          '[{"op":"replace","path":"/metadata/resourceVersion","value":"abc"}]',
          '[{"op":"replace","path":"/spec/replicas","value":1}',
          '[{"op":"add","path":"/spec/replicas/-","value":1}]',
          '[{"op":"replace","path":"/__proto__/polluted","value":1}]',
          '[{"op":"add","path":"/metadata/labels/__proto__","value":{"x":"y"}}]',
          '[{"op":"add","path":"/spec/constructor/prototype/polluted","value":1}]',
          '[{"path":"/spec/replicas","value":2}]',
          '[{"op":"replace","path":"/spec/replicas","value":"many"}]',
          '[{"op":"remove","path":"/spec/replicas/deeper"}]',
        ]);
        return { ...json('PATCH', path, b), headers: { 'content-type': 'application/json-patch+json' }, label: `PATCH json ${name} ${b}` };
      },
    ],
    [
      'methods',
      6,
      () => {
        const name = fixture();
        const body = JSON.stringify(validJob(name));
        const cases: Omit<HostileRequest, 'category'>[] = [
          json('POST', `/default/jobs/${name}`, body),
          json('PUT', '/default/jobs', body),
          { ...json('PATCH', '/default/jobs', '{"spec":{"priority":1}}'), headers: { 'content-type': 'application/merge-patch+json' } },
          { label: 'DELETE /default/jobs?labelSelector=nomatch=xyz', method: 'DELETE', path: '/default/jobs?labelSelector=nomatch%3Dxyz' },
          { label: 'OPTIONS /default/jobs', method: 'OPTIONS', path: '/default/jobs' },
          { label: `OPTIONS /default/jobs/${name}`, method: 'OPTIONS', path: `/default/jobs/${name}` },
          { label: 'TRACE /', method: 'TRACE', path: '/' },
          { label: 'TRACE /default/jobs', method: 'TRACE', path: '/default/jobs' },
          json('POST', '/healthz', '{}'),
          json('PUT', '/version', '{}'),
          { label: 'DELETE /metrics', method: 'DELETE', path: '/metrics' },
          json('POST', '/openapi.json', '{}'),
          json('POST', `/default/jobs/${name}/status`, body),
          { label: `DELETE /default/jobs/${name}/status`, method: 'DELETE', path: `/default/jobs/${name}/status` },
          json('PUT', '/clusters', JSON.stringify(validCluster('x'))),
          json('POST', '/clusters/x', JSON.stringify(validCluster('x'))),
          { label: 'PROPFIND /default/jobs', method: 'PROPFIND', path: '/default/jobs' },
          { label: 'PURGE /default/jobs', method: 'PURGE', path: '/default/jobs' },
        ];
        return pick(cases);
      },
    ],
    [
      'non-object-bodies',
      6,
      () => {
        const b = pick(['[]', '42', '"job"', 'null', 'true', '{}', '[{"kind":"Job"}]', '-1', '""', '0', '1e309', '[null]']);
        const name = fixture();
        const path = pick(['/default/jobs', '/clusters', '/namespaces', '/default/filterpolicies', `/default/jobs/${name}`, `/default/jobs/${name}/status`]);
        return json(path.endsWith('s') && !path.includes('fixture') ? 'POST' : 'PUT', path, b);
      },
    ],
    [
      'kind-mismatch',
      4,
      () => {
        const v = Math.floor(rnd() * 5);
        if (v === 0)
          return json(
            'POST',
            '/default/jobs',
            JSON.stringify(setPath(validJob(uniq('km')), 'kind', pick(['Cluster', 'FilterPolicy', 'JobList', 'Status', 'Service', '']))),
          );
        if (v === 1) return json('POST', '/clusters', JSON.stringify(setPath(validCluster(uniq('km')), 'kind', pick(['Job', 'Namespace', 'Link']))));
        if (v === 2) return json('POST', '/namespaces', JSON.stringify(setPath(validNamespace(uniq('km')), 'kind', 'Job')));
        if (v === 3) return json('POST', '/default/jobs', JSON.stringify(validCluster(uniq('km'))));
        const name = fixture();
        return json('PUT', `/default/jobs/${name}`, JSON.stringify(setPath(validJob(name), 'kind', 'Service')));
      },
    ],
    [
      'missing-namespace',
      4,
      () => {
        const ns = uniq('no-such-ns');
        const k = pick(KIND_DEFS.filter((d) => d.namespaced));
        if (rnd() < 0.2) return json('POST', `/${pick(['UPPER', 'a.b', '..', 'x'.repeat(70), '%C3%BC'])}/jobs`, JSON.stringify(validJob(uniq('mn'))));
        return json('POST', `/${ns}/${k.plural}`, JSON.stringify(k.make(uniq('mn'))));
      },
    ],
    [
      'status-garbage',
      6,
      () => {
        const name = fixture();
        const path = `/default/jobs/${name}/status`;
        const statuses: Json[] = [
          'x',
          [],
          42,
          { phase: 'EXPLODED' },
          { phase: 42 },
          { replicaStatus: 'x' },
          { replicaStatus: { c: { RUNNING: -1 } } },
          { replicaStatus: { c: { RUNNING: 'many' } } },
          { conditions: 'x' },
          { conditions: [{ type: 42 }] },
          { bogusStatusField: 1 },
          { jobIds: [] },
          { taskStatus: 'x' },
        ];
        const v = rnd();
        if (v < 0.75) {
          const st = pick(statuses);
          return { ...json('PUT', path, JSON.stringify(setPath(validJob(name), 'status', st))), label: `PUT ${path} status=${JSON.stringify(st)}` };
        }
        if (v < 0.85) return json('PUT', path, '{"kind":"Job","status":{"phase":');
        if (v < 0.92) return json('PUT', path, JSON.stringify(setPath(validJob('different-name'), 'status', { phase: 'PENDING' })));
        return json('PUT', path, JSON.stringify(setPath(validCluster(name), 'status', { phase: 'READY' })));
      },
    ],
    [
      'huge',
      4,
      () => {
        const v = Math.floor(rnd() * 7);
        if (v <= 1) {
          const job = validJob(uniq('huge'));
          (job.metadata as Record<string, Json>).annotations = { big: 'x'.repeat(Math.floor(1.6 * MiB)) };
          return { ...json('POST', '/default/jobs', JSON.stringify(job)), label: 'POST /default/jobs 1.6 MiB JSON body', expect: [413] };
        }
        if (v === 2) {
          const body = `kind: Job\nmetadata:\n  name: ${uniq('huge')}\nspec:\n  run: "${'y'.repeat(Math.floor(1.7 * MiB))}"\n`;
          return { ...yaml('POST', '/default/jobs', body), label: 'POST /default/jobs 1.7 MiB YAML body', expect: [413] };
        }
        if (v === 3) {
          const job = validJob(uniq('huge'));
          (job.spec as Record<string, Json>).run = 'z'.repeat(2 * MiB);
          // no content-length: chunked upload
          return {
            ...json('POST', '/default/jobs', JSON.stringify(job)),
            headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
            label: 'POST /default/jobs 2 MiB chunked (no Content-Length)',
            expect: [413],
          };
        }
        if (v === 4) return { label: 'GET with 100 KB header', method: 'GET', path: '/default/jobs/nonexistent-h', headers: { 'x-big': 'h'.repeat(100_000) } };
        if (v === 5) return { label: 'GET with 64 KB labelSelector in URL', method: 'GET', path: `/default/jobs?labelSelector=${'a'.repeat(64_000)}%3D%3D` };
        const headers: Record<string, string> = {};
        for (let i = 0; i < 500; i++) headers[`x-h-${i}`] = String(i);
        return { label: 'GET nonexistent with 500 headers', method: 'GET', path: '/default/jobs/nonexistent-hh', headers };
      },
    ],
    [
      'raw-protocol',
      5,
      () => {
        const host = 'Host: 127.0.0.1\r\n';
        const post = (extra: string, body: string) => `POST /default/jobs HTTP/1.1\r\n${host}Content-Type: application/json\r\n${extra}\r\n${body}`;
        const cases: [string, string][] = [
          ['garbage request line', 'GARBAGE\r\n\r\n'],
          ['HTTP/9.9', `GET /default/jobs/nonexistent HTTP/9.9\r\n${host}\r\n`],
          ['bare GET', 'GET\r\n\r\n'],
          ['raw 0xff bytes in path', `GET /default/jobs/\xff\xfe HTTP/1.1\r\n${host}\r\n`],
          ['space in path', `GET /default/jobs/a b HTTP/1.1\r\n${host}\r\n`],
          ['bad chunk size', post('Transfer-Encoding: chunked\r\n', 'zz\r\n{}\r\n0\r\n\r\n')],
          ['huge chunk size', post('Transfer-Encoding: chunked\r\n', 'FFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n')],
          ['chunk length mismatch', post('Transfer-Encoding: chunked\r\n', '5\r\n{}\r\n0\r\n\r\n')],
          ['CL + TE smuggling', post('Content-Length: 2\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n')],
          ['duplicate differing CL', post('Content-Length: 2\r\nContent-Length: 3\r\n', '{}x')],
          ['negative CL', post('Content-Length: -1\r\n', '{}')],
          ['non-numeric CL', post('Content-Length: abc\r\n', '{}')],
          ['header without colon', `GET /default/jobs/nonexistent HTTP/1.1\r\n${host}BadHeader\r\n\r\n`],
          ['space in header name', `GET /default/jobs/nonexistent HTTP/1.1\r\n${host}Bad Header: x\r\n\r\n`],
          ['obs-fold header', `GET /default/jobs/nonexistent HTTP/1.1\r\n${host}X-A: b\r\n c\r\n\r\n`],
          ['NUL in header value', `GET /default/jobs/nonexistent HTTP/1.1\r\n${host}X-A: a\x00b\r\n\r\n`],
          ['missing Host', 'GET /default/jobs/nonexistent HTTP/1.1\r\n\r\n'],
          ['bad chunk extension', post('Transfer-Encoding: chunked\r\n', '2;ext=\x01\r\n{}\r\n0\r\n\r\n')],
          ['unknown method BREW', `BREW /default/jobs HTTP/1.1\r\n${host}\r\n`],
          ['content-encoding gzip garbage', post('Content-Length: 9\r\nContent-Encoding: gzip\r\n', 'notgzip!!')],
          ['Expect 100-continue 2 MB', post('Content-Length: 2000000\r\nExpect: 100-continue\r\n', '')],
          ['pipelined garbage', `GET /default/jobs/nonexistent-p HTTP/1.1\r\n${host}\r\nGARBAGE\r\n\r\n`],
          ['LF-only line endings', 'GET /default/jobs/nonexistent HTTP/1.1\nHost: x\n\n'],
          ['absolute-form to other host', `GET http://evil.example/default/jobs/nonexistent HTTP/1.1\r\n${host}\r\n`],
          ['asterisk-form GET', `GET * HTTP/1.1\r\n${host}\r\n`],
        ];
        const [label, bytes] = pick(cases);
        return raw(label, bytes);
      },
    ],
  ];

  const total = gens.reduce((s, g) => s + g[1], 0);
  const out: HostileRequest[] = [];
  // Guarantee every category appears, then fill by weight.
  for (const [category, , gen] of gens) out.push({ category, ...gen() });
  while (out.length < count) {
    let r = rnd() * total;
    for (const [category, w, gen] of gens) {
      r -= w;
      if (r <= 0) {
        out.push({ category, ...gen() });
        break;
      }
    }
  }
  return out;
}
