/** The `kubernetes` manager's entry in the registry (aliases k8, k8s): its config (Cluster `spec.config`) and factory. */
import Type from 'typebox';
import { defineManager } from '../registration.js';
import { OptString } from '../config-schema.js';
import { KubernetesManager } from './manager.js';

export const KubernetesConfig = Type.Object(
  {
    kubeconfig: OptString('kubeconfig file (default: KUBECONFIG, else ~/.kube/config)'),
    context: OptString('kubeconfig context (default: the context named like the cluster)'),
    namespace: OptString("Kubernetes namespace for SkyShift's pods (default: the context's, else default)"),
    probeSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600, description: 'ask a silent API server for /version after this long (default 30)' })),
  },
  { additionalProperties: false },
);

export const kubernetesManager = defineManager({
  type: 'kubernetes',
  configSchema: KubernetesConfig,
  create: (name, config) => new KubernetesManager({ ...config, name }),
});
