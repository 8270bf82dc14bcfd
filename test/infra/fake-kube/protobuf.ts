/**
 * Protobuf request bodies (`application/vnd.kubernetes.protobuf`), which kubectl's typed clients send for
 * `kubectl create namespace|deployment|configmap|secret|service` and typed deletes. The FAKE decodes the kinds below into
 * their JSON form, for the fields listed (taken from k8s.io/api and k8s.io/apimachinery generated.proto); other fields
 * are dropped, other kinds answered 415. Responses are always JSON (clients accept it).
 */
import { badRequest, failure } from './status.js';

type Kind = 'o' | 'r' | 'm'; // optional, repeated, map<string, T>
type Field = [name: string, type: string, kind: Kind];
type Schema = Record<number, Field>;

const META: Schema = {
  1: ['name', 'string', 'o'],
  2: ['generateName', 'string', 'o'],
  3: ['namespace', 'string', 'o'],
  5: ['uid', 'string', 'o'],
  6: ['resourceVersion', 'string', 'o'],
  7: ['generation', 'int', 'o'],
  8: ['creationTimestamp', 'time', 'o'],
  11: ['labels', 'string', 'm'],
  12: ['annotations', 'string', 'm'],
  13: ['ownerReferences', 'OwnerReference', 'r'],
  14: ['finalizers', 'string', 'r'],
};

const SCHEMAS: Record<string, Schema> = {
  ObjectMeta: META,
  OwnerReference: {
    5: ['apiVersion', 'string', 'o'],
    1: ['kind', 'string', 'o'],
    3: ['name', 'string', 'o'],
    4: ['uid', 'string', 'o'],
    6: ['controller', 'bool', 'o'],
    7: ['blockOwnerDeletion', 'bool', 'o'],
  },
  LabelSelector: { 1: ['matchLabels', 'string', 'm'], 2: ['matchExpressions', 'LabelSelectorRequirement', 'r'] },
  LabelSelectorRequirement: { 1: ['key', 'string', 'o'], 2: ['operator', 'string', 'o'], 3: ['values', 'string', 'r'] },
  Namespace: { 1: ['metadata', 'ObjectMeta', 'o'], 2: ['spec', 'NamespaceSpec', 'o'] },
  NamespaceSpec: { 1: ['finalizers', 'string', 'r'] },
  ConfigMap: { 1: ['metadata', 'ObjectMeta', 'o'], 2: ['data', 'string', 'm'], 3: ['binaryData', 'bytes', 'm'], 4: ['immutable', 'bool', 'o'] },
  Secret: {
    1: ['metadata', 'ObjectMeta', 'o'],
    2: ['data', 'bytes', 'm'],
    3: ['type', 'string', 'o'],
    4: ['stringData', 'string', 'm'],
    5: ['immutable', 'bool', 'o'],
  },
  Service: { 1: ['metadata', 'ObjectMeta', 'o'], 2: ['spec', 'ServiceSpec', 'o'] },
  ServiceSpec: {
    1: ['ports', 'ServicePort', 'r'],
    2: ['selector', 'string', 'm'],
    3: ['clusterIP', 'string', 'o'],
    4: ['type', 'string', 'o'],
    7: ['sessionAffinity', 'string', 'o'],
    10: ['externalName', 'string', 'o'],
    17: ['ipFamilyPolicy', 'string', 'o'],
    18: ['clusterIPs', 'string', 'r'],
  },
  ServicePort: {
    1: ['name', 'string', 'o'],
    2: ['protocol', 'string', 'o'],
    3: ['port', 'int', 'o'],
    4: ['targetPort', 'intstr', 'o'],
    5: ['nodePort', 'int', 'o'],
    6: ['appProtocol', 'string', 'o'],
  },
  Deployment: { 1: ['metadata', 'ObjectMeta', 'o'], 2: ['spec', 'DeploymentSpec', 'o'] },
  DeploymentSpec: {
    1: ['replicas', 'int', 'o'],
    2: ['selector', 'LabelSelector', 'o'],
    3: ['template', 'PodTemplateSpec', 'o'],
    4: ['strategy', 'DeploymentStrategy', 'o'],
    5: ['minReadySeconds', 'int', 'o'],
    6: ['revisionHistoryLimit', 'int', 'o'],
    7: ['paused', 'bool', 'o'],
    9: ['progressDeadlineSeconds', 'int', 'o'],
  },
  DeploymentStrategy: { 1: ['type', 'string', 'o'], 2: ['rollingUpdate', 'RollingUpdateDeployment', 'o'] },
  RollingUpdateDeployment: { 1: ['maxUnavailable', 'intstr', 'o'], 2: ['maxSurge', 'intstr', 'o'] },
  PodTemplateSpec: { 1: ['metadata', 'ObjectMeta', 'o'], 2: ['spec', 'PodSpec', 'o'] },
  PodSpec: {
    2: ['containers', 'Container', 'r'],
    3: ['restartPolicy', 'string', 'o'],
    4: ['terminationGracePeriodSeconds', 'int', 'o'],
    5: ['activeDeadlineSeconds', 'int', 'o'],
    6: ['dnsPolicy', 'string', 'o'],
    7: ['nodeSelector', 'string', 'm'],
    8: ['serviceAccountName', 'string', 'o'],
    10: ['nodeName', 'string', 'o'],
    11: ['hostNetwork', 'bool', 'o'],
    19: ['schedulerName', 'string', 'o'],
    24: ['priorityClassName', 'string', 'o'],
  },
  Container: {
    1: ['name', 'string', 'o'],
    2: ['image', 'string', 'o'],
    3: ['command', 'string', 'r'],
    4: ['args', 'string', 'r'],
    5: ['workingDir', 'string', 'o'],
    6: ['ports', 'ContainerPort', 'r'],
    7: ['env', 'EnvVar', 'r'],
    8: ['resources', 'ResourceRequirements', 'o'],
    13: ['terminationMessagePath', 'string', 'o'],
    14: ['imagePullPolicy', 'string', 'o'],
    16: ['stdin', 'bool', 'o'],
    17: ['stdinOnce', 'bool', 'o'],
    18: ['tty', 'bool', 'o'],
    20: ['terminationMessagePolicy', 'string', 'o'],
  },
  ContainerPort: {
    1: ['name', 'string', 'o'],
    2: ['hostPort', 'int', 'o'],
    3: ['containerPort', 'int', 'o'],
    4: ['protocol', 'string', 'o'],
    5: ['hostIP', 'string', 'o'],
  },
  EnvVar: { 1: ['name', 'string', 'o'], 2: ['value', 'string', 'o'], 3: ['valueFrom', 'EnvVarSource', 'o'] },
  EnvVarSource: { 1: ['fieldRef', 'ObjectFieldSelector', 'o'] },
  ObjectFieldSelector: { 1: ['apiVersion', 'string', 'o'], 2: ['fieldPath', 'string', 'o'] },
  ResourceRequirements: { 1: ['limits', 'quantity', 'm'], 2: ['requests', 'quantity', 'm'] },
  DeleteOptions: {
    1: ['gracePeriodSeconds', 'int', 'o'],
    2: ['preconditions', 'Preconditions', 'o'],
    3: ['orphanDependents', 'bool', 'o'],
    4: ['propagationPolicy', 'string', 'o'],
    5: ['dryRun', 'string', 'r'],
  },
  Preconditions: { 1: ['uid', 'string', 'o'], 2: ['resourceVersion', 'string', 'o'] },
};

/** `apiVersion/kind` of an envelope -> the message type of its raw bytes. */
const ROOTS: Record<string, string> = {
  'v1/Namespace': 'Namespace',
  'v1/ConfigMap': 'ConfigMap',
  'v1/Secret': 'Secret',
  'v1/Service': 'Service',
  'apps/v1/Deployment': 'Deployment',
  'v1/DeleteOptions': 'DeleteOptions',
  'meta.k8s.io/v1/DeleteOptions': 'DeleteOptions',
};

const MAX_DEPTH = 32;
/** Pointer fields where 0 is a value; every other zero scalar is the proto encoding of "unset" (JSON omitempty). */
const ZERO_MEANINGFUL = new Set(['replicas', 'terminationGracePeriodSeconds', 'gracePeriodSeconds', 'revisionHistoryLimit', 'activeDeadlineSeconds']);
const bad = (why: string) => badRequest(`unable to decode the protobuf body: ${why}`);

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw bad('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return Number(BigInt.asIntN(64, result));
    }
    throw bad('varint too long');
  }
  bytes(): Buffer {
    const n = this.varint();
    if (n < 0 || this.pos + n > this.buf.length) throw bad('length out of range');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 2) this.bytes();
    else if (wire === 1 || wire === 5) this.pos += wire === 1 ? 8 : 4;
    else throw bad(`unsupported wire type ${wire}`);
    if (this.pos > this.buf.length) throw bad('truncated field');
  }
}

/** The raw fields of one message: field number -> [wire type, value] in order. */
function fields(buf: Buffer): [number, number, number | Buffer][] {
  const r = new Reader(buf);
  const out: [number, number, number | Buffer][] = [];
  while (!r.done) {
    const tag = r.varint();
    const [num, wire] = [Math.floor(tag / 8), tag & 7];
    if (wire === 0) out.push([num, wire, r.varint()]);
    else if (wire === 2) out.push([num, wire, r.bytes()]);
    else r.skip(wire);
  }
  return out;
}

function scalar(type: string, v: number | Buffer, depth: number): unknown {
  if (typeof v === 'number') return type === 'bool' ? v !== 0 : v;
  switch (type) {
    case 'string':
      return v.toString('utf8');
    case 'bytes':
      return v.toString('base64');
    case 'quantity':
      return (
        fields(v)
          .find(([n]) => n === 1)?.[2]
          ?.toString() ?? '0'
      );
    case 'intstr': {
      const f = new Map(fields(v).map(([n, , x]) => [n, x]));
      return f.get(1) === 1 ? (f.get(3)?.toString() ?? '') : (f.get(2) ?? 0);
    }
    case 'time': {
      const secs = fields(v).find(([n]) => n === 1)?.[2];
      return typeof secs === 'number' && secs !== 0 ? new Date(secs * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
    }
    default:
      return message(type, v, depth + 1);
  }
}

function message(type: string, buf: Buffer, depth: number): Record<string, unknown> {
  const schema = SCHEMAS[type];
  if (!schema || depth > MAX_DEPTH) throw bad(`unexpected message ${type}`);
  const out: Record<string, unknown> = {};
  for (const [num, , v] of fields(buf)) {
    const f = schema[num];
    if (!f) continue; // a field the fake does not model
    const [name, ftype, kind] = f;
    if (kind === 'm') {
      if (!Buffer.isBuffer(v)) throw bad(`map entry ${name} is not a message`);
      const entry = new Map(fields(v).map(([n, , x]) => [n, x]));
      const key = entry.get(1);
      const map = (out[name] ??= {}) as Record<string, unknown>;
      map[Buffer.isBuffer(key) ? key.toString('utf8') : String(key ?? '')] = entry.has(2)
        ? scalar(ftype, entry.get(2)!, depth)
        : ftype === 'string'
          ? ''
          : null;
    } else if (kind === 'r') ((out[name] ??= []) as unknown[]).push(scalar(ftype, v, depth));
    else {
      const value = scalar(ftype, v, depth);
      const unset = value === null || value === '' || value === false || (value === 0 && !ZERO_MEANINGFUL.has(name));
      if (!unset) out[name] = value;
    }
  }
  return out;
}

/** Decodes a `k8s\0`-enveloped protobuf body into the JSON object a client would have sent. */
export function decodeProtobufBody(buf: Buffer): Record<string, unknown> {
  if (buf.length < 4 || buf.subarray(0, 4).toString('latin1') !== 'k8s\0') throw bad('missing the k8s protobuf envelope');
  const unknown = new Map(fields(buf.subarray(4)).map(([n, , x]) => [n, x]));
  const typeMeta = unknown.get(1);
  const tm = Buffer.isBuffer(typeMeta) ? new Map(fields(typeMeta).map(([n, , x]) => [n, x])) : new Map();
  const apiVersion = tm.get(1)?.toString() ?? '';
  const kind = tm.get(2)?.toString() ?? '';
  const root = ROOTS[`${apiVersion}/${kind}`];
  if (!root)
    throw failure(
      415,
      'UnsupportedMediaType',
      `the fake Kubernetes API server decodes protobuf bodies only for ${Object.keys(ROOTS).join(', ')}; got ${apiVersion}/${kind}`,
    );
  const raw = unknown.get(2);
  const obj = message(root, Buffer.isBuffer(raw) ? raw : Buffer.alloc(0), 0);
  return root === 'DeleteOptions' ? obj : { apiVersion, kind, ...obj };
}
