/**
 * The contract between the FAKE Kubernetes API server (test/infra/fake-kube) and its streaming endpoints
 * (pods/{name}/exec and pods/{name}/portforward), which live in this folder.
 */

/** What the streams need to know about one fake pod. */
export interface StreamPod {
  /** The pod's loopback address (status.podIP); its processes bind here, port-forward connects here. */
  podIP: string;
  /** status.phase: Pending | Running | Succeeded | Failed | Unknown. */
  phase: string;
  /** Container names, first is the default. */
  containers: string[];
  /** The environment the fake kubelet gave the container's process (exec gets the same). */
  env: Record<string, string>;
  /** The working directory of the container's process. */
  cwd: string;
  /** metadata.uid, named in the kubelet's port-forward error messages ('' when not given). */
  uid?: string;
}

export interface StreamDeps {
  /** The pod `namespace/name`, or undefined when it does not exist. */
  lookupPod(namespace: string, name: string): StreamPod | undefined;
  /** Count one request (verb `exec` or `portforward`, resource `pods`). */
  count(verb: string, resource: string): void;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token?: string;
}
