/** Field-name spellings: the wire is camelCase; snake_case is accepted on input for Python-era manifests. */

/** `restartPolicy` -> `restart_policy`, `clusterIP` -> `cluster_ip`, `jobIds` -> `job_ids`. */
export function toSnake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/** `ssh_key` -> `sshKey`; names without '_' are returned unchanged. */
export function toCamel(name: string): string {
  return name.includes('_') ? name.replace(/_+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase()) : name;
}
