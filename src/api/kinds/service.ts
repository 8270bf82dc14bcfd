/** Service: a stable endpoint load-balancing over a job's replicas in every cluster. */
import Type from 'typebox';
import { Conditions, Enum, NonEmpty, Obj, Port, StrMap } from '../schema.js';
import { Envelope, type KindDef } from './def.js';

export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;

export const ServicePort = Obj({
  name: Type.Optional(Type.String()),
  port: Port(),
  targetPort: Port({ description: 'defaults to port' }),
  nodePort: Type.Optional(Port()),
  protocol: Enum(['TCP', 'UDP'], { default: 'TCP' }),
});
export const ServiceSpec = Obj({
  type: Enum([...SERVICE_TYPES], { default: 'ClusterIP' }),
  selector: StrMap({ default: {}, description: 'job labels whose replicas back the service' }),
  ports: Type.Array(ServicePort, { default: [] }),
  clusterIP: Type.Optional(Type.String()),
  primaryCluster: Type.Optional(NonEmpty({ description: 'cluster hosting the real service and the Endpoints object' })),
});
export const ServiceStatus = Obj({ externalIP: Type.Optional(Type.String()), conditions: Conditions() }, { default: {} });
export const ServiceSchema = Envelope('Service', true, ServiceSpec, ServiceStatus);
export type ServicePort = Type.Static<typeof ServicePort>;
export type ServiceSpec = Type.Static<typeof ServiceSpec>;
export type ServiceStatus = Type.Static<typeof ServiceStatus>;
export type Service = Type.Static<typeof ServiceSchema>;

export const serviceKind: KindDef = {
  kind: 'Service',
  plural: 'services',
  singular: 'service',
  shortNames: ['svc'],
  namespaced: true,
  schema: ServiceSchema,
  status: ServiceStatus,
  prepare(obj) {
    const ports = obj.spec?.ports;
    if (!Array.isArray(ports)) return;
    ports.forEach((p, i) => {
      if (p && typeof p === 'object' && p.targetPort === undefined && p.port !== undefined) {
        // Rebuilt rather than assigned so the key order matches an explicit targetPort.
        const { name, port, nodePort, protocol } = p;
        ports[i] = { ...(name !== undefined && { name }), port, targetPort: port, ...(nodePort !== undefined && { nodePort }), protocol };
      }
    });
  },
};
