/**
 * Public face of the kubernetes manager: its registration, the class, and
 * kubeconfig discovery for `skyshift up` (every context becomes a cluster).
 * @kubernetes/client-node stays inside this folder.
 */
export { kubernetesManager, KubernetesConfig } from './registration.js';
export { KubernetesManager, type KubernetesManagerConfig } from './manager.js';
export { kubeconfigContexts, defaultKubeconfigPaths } from './kubeconfig.js';
