/** Which stream a request asks for, and whether it may have it (path, token, pod, container): the checks before any upgrade. */
import type { IncomingMessage } from 'node:http';
import { badRequest, podNotFound, unauthorized, type Status } from './status.js';
import type { StreamDeps, StreamPod } from './types.js';

export type StreamKind = 'exec' | 'attach' | 'portforward';

export interface StreamTarget {
  kind: StreamKind;
  namespace: string;
  name: string;
  query: URLSearchParams;
}

const STREAM_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)$/;
/** A DNS-1123 label or subdomain, as namespace and pod names must be. */
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const MAX_URL = 64 * 1024;

/** The stream a URL names, or undefined when it is not a stream path (the caller answers it). */
export function parseTarget(url: string | undefined): StreamTarget | undefined {
  if (url === undefined || url.length > MAX_URL) return undefined;
  const q = url.indexOf('?');
  const match = STREAM_PATH.exec(q < 0 ? url : url.slice(0, q));
  if (!match) return undefined;
  let namespace: string;
  let name: string;
  try {
    namespace = decodeURIComponent(match[1]!);
    name = decodeURIComponent(match[2]!);
  } catch {
    return undefined;
  }
  return { kind: match[3] as StreamKind, namespace, name, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)) };
}

/** The bearer token check of the real API server: 401 without the token (when the fake has one). */
export function authorize(req: IncomingMessage, deps: StreamDeps): Status | undefined {
  if (deps.token === undefined) return undefined;
  return req.headers.authorization === `Bearer ${deps.token}` ? undefined : unauthorized();
}

/** The pod, or the 404 the API server answers for it. Names that cannot exist are not found either, as in the real server. */
export function findPod(target: StreamTarget, deps: StreamDeps): { pod: StreamPod } | { status: Status } {
  const pod = NAME.test(target.namespace) && NAME.test(target.name) ? deps.lookupPod(target.namespace, target.name) : undefined;
  return pod ? { pod } : { status: podNotFound(target.name) };
}

/** The container a request names, or the API server's 400 (streamLocation in pkg/registry/core/pod/strategy.go). */
export function pickContainer(pod: StreamPod, name: string, requested: string | null): { container: string } | { status: Status } {
  if (requested) {
    return pod.containers.includes(requested) ? { container: requested } : { status: badRequest(`container ${requested} is not valid for pod ${name}`) };
  }
  if (pod.containers.length === 1) return { container: pod.containers[0]! };
  if (pod.containers.length === 0) return { status: badRequest(`a container name must be specified for pod ${name}`) };
  return { status: badRequest(`a container name must be specified for pod ${name}, choose one of: [${pod.containers.join(' ')}]`) };
}

/** A boolean query parameter as the API server's conversion reads it (strconv.ParseBool); undefined when unparsable. */
export function queryBool(query: URLSearchParams, key: string): boolean | undefined {
  const value = query.get(key);
  if (value === null || value === '') return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}
