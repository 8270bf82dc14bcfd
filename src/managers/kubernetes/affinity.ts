/**
 * Placing a typed GPU request (`A100: 1`) inside a Kubernetes cluster: the
 * pod asks for the GPU resource those nodes offer, with a node affinity on
 * the label values that name that model, so Kubernetes' scheduler picks one
 * of those nodes and not just any GPU node.
 */
import { ACCELERATOR_LABEL, GPU_RESOURCES, acceleratorType, parseQuantity, type KubeNode } from './resources.js';

const PRODUCT_LABELS = ['nvidia.com/gpu.product', 'amd.com/gpu.product-name'];

export function acceleratorAffinity(type: string, nodes: readonly KubeNode[]): { resource: string; terms: { key: string; values: string[] }[] } {
  const wanted = type.toUpperCase();
  const values = new Map<string, Set<string>>();
  let resource: string | undefined;
  for (const node of nodes) {
    const labels = node.metadata.labels ?? {};
    const explicit = labels[ACCELERATOR_LABEL];
    let matched: [string, string] | undefined;
    if (explicit !== undefined) {
      if (explicit.toUpperCase() === wanted) matched = [ACCELERATOR_LABEL, explicit];
    } else {
      for (const key of PRODUCT_LABELS) {
        const v = labels[key];
        if (v !== undefined && acceleratorType(v) === wanted) matched = [key, v];
      }
    }
    if (!matched) continue;
    values.set(matched[0], (values.get(matched[0]) ?? new Set()).add(matched[1]));
    resource ??= GPU_RESOURCES.find((r) => parseQuantity(node.status?.allocatable?.[r]) > 0);
  }
  // No node of that type (yet): still constrain by SkyShift's own label, so the pod waits rather than lands on another model.
  const terms = values.size > 0 ? [...values].map(([key, v]) => ({ key, values: [...v].sort() })) : [{ key: ACCELERATOR_LABEL, values: [type] }];
  return { resource: resource ?? GPU_RESOURCES[0], terms };
}
