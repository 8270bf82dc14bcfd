/** Node objects of the FAKE cluster, built from FakeNodeSpec with the fields a real kubelet registers. */
import { nowSeconds } from './store.js';
import type { FakeNodeSpec, Node } from './types.js';

export function nodeObject(spec: FakeNodeSpec, ip: string): Node {
  const now = nowSeconds();
  const resources: Record<string, string> = { cpu: spec.cpu ?? '4', memory: spec.memory ?? '8Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  if (spec.gpus && spec.gpus.count > 0) resources[spec.gpus.resource ?? 'nvidia.com/gpu'] = String(spec.gpus.count);
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': spec.name,
    'kubernetes.io/os': 'linux',
    ...(spec.gpus?.product ? { 'nvidia.com/gpu.product': spec.gpus.product } : {}),
    ...(spec.labels ?? {}),
  };
  const ready = spec.ready ?? true;
  const taints = [
    ...(spec.unschedulable ? [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: now }] : []),
    ...(ready ? [] : [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule', timeAdded: now }]),
  ];
  const cond = (type: string, status: boolean, reason: string, message: string) => ({
    type,
    status: status ? ('True' as const) : ('False' as const),
    lastHeartbeatTime: now,
    lastTransitionTime: now,
    reason,
    message,
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: spec.name, labels, annotations: { 'node.alpha.kubernetes.io/ttl': '0' } },
    spec: {
      ...(spec.unschedulable ? { unschedulable: true } : {}),
      ...(taints.length ? { taints } : {}),
    },
    status: {
      capacity: { ...resources },
      allocatable: { ...resources },
      conditions: [
        cond('MemoryPressure', false, 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', false, 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', false, 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        ready
          ? cond('Ready', true, 'KubeletReady', 'kubelet is posting ready status')
          : cond('Ready', false, 'KubeletNotReady', 'container runtime network not ready'),
      ],
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: spec.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: '',
        containerRuntimeVersion: 'fake-kube://1.0.0',
        kernelVersion: 'fake',
        kubeProxyVersion: 'v1.32.0',
        kubeletVersion: 'v1.32.0',
        machineID: '',
        operatingSystem: 'linux',
        osImage: 'fake-kube (pods are local processes)',
        systemUUID: '',
      },
    },
  };
}
