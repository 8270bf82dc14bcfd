/**
 * Object names. Every name is a DNS-1123 label so it can be used verbatim in
 * storage keys, URLs, Kubernetes objects and Slurm job names.
 *
 * Cluster names may also be given in the raw form of a kubeconfig context
 * (`kind-My Cluster`, `arn:aws:eks:us-west-2:123:cluster/prod`,
 * `gke_proj_us-central1_c1`) and are normalised by normalizeClusterName:
 *
 *   1. a name that already is a valid DNS label is kept unchanged;
 *   2. otherwise it is lower-cased, and every run of characters other than
 *      a-z, 0-9 and '-' becomes a single '-' (`My Cluster` -> `my-cluster`,
 *      `gke_proj_us-central1_c1` -> `gke-proj-us-central1-c1`), and runs of
 *      '-' collapse to one (`a - b` -> `a-b`);
 *   3. leading and trailing '-' are removed;
 *   4. if the result is longer than 63 characters it is cut to 56 and
 *      '-' plus 6 hex characters of the SHA-256 of the *raw* name are appended,
 *      so two long names that share a prefix stay distinct;
 *   5. a raw name with no letters or digits at all is rejected.
 *
 * The mapping is not invertible by itself, so whoever normalises keeps the raw
 * name in the annotation `skyshift.io/display-name` (DISPLAY_NAME_ANNOTATION);
 * displayName() returns it for tables and for looking the context up again.
 */
import { ApiError } from './errors.js';
import { sha256Hex } from './sha256.js';

export const DISPLAY_NAME_ANNOTATION = 'skyshift.io/display-name';
export const MAX_NAME_LENGTH = 63;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const DNS_LABEL_RULE = 'must consist of lower-case letters, digits and \'-\', and start and end with a letter or digit (e.g. "my-name")';

export function isDnsLabel(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && DNS_LABEL.test(name);
}

/** Why `name` is not a valid object name, or undefined if it is. */
export function validateName(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (name === '') return 'must not be empty';
  if (name.length > MAX_NAME_LENGTH) return `must be no more than ${MAX_NAME_LENGTH} characters (got ${name.length})`;
  if (!DNS_LABEL.test(name)) return DNS_LABEL_RULE;
  return undefined;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const DNS_SUBDOMAIN_RULE = "must consist of lower-case letters, digits, '-' and '.', and start and end with a letter or digit (e.g. \"hello.17a3\")";

/**
 * Event names follow Kubernetes (`<object>.<suffix>`), so they are DNS
 * subdomains (dots allowed, at most 253 characters) rather than labels.
 */
export function validateSubdomainName(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (name === '') return 'must not be empty';
  if (name.length > 253) return `must be no more than 253 characters (got ${name.length})`;
  if (!DNS_SUBDOMAIN.test(name)) return DNS_SUBDOMAIN_RULE;
  return undefined;
}

/** Raw cluster / context name -> a DNS label (see the mapping above). Throws ApiError('BadRequest') if nothing usable is left. */
export function normalizeClusterName(raw: string): string {
  if (isDnsLabel(raw)) return raw;
  let name = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  if (name === '') throw new ApiError('BadRequest', `invalid cluster name "${raw}": must contain a letter or digit`);
  if (name.length > MAX_NAME_LENGTH) {
    const hash = sha256Hex(raw).slice(0, 6);
    name = `${name.slice(0, MAX_NAME_LENGTH - 7).replace(/-+$/, '')}-${hash}`;
  }
  return name;
}

/** The name to show a user: the raw name kept at normalisation, else metadata.name. */
export function displayName(obj: { metadata: { name: string; annotations?: Record<string, string> } }): string {
  return obj.metadata.annotations?.[DISPLAY_NAME_ANNOTATION] ?? obj.metadata.name;
}
