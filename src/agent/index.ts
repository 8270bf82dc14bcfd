/** Public face of src/agent: `skyshift agent`'s runtime, hardware detection, its Cluster, fencing. */
export { runAgent, type AgentParams } from './runtime.js';
export { detectHardware, parseNvidiaSmi, acceleratorName, runNvidiaSmi, type Hardware, type HardwareOverrides, type GpuInfo } from './hardware.js';
export { agentCluster, registerCluster, type AgentManager, type ClusterFlags } from './register.js';
export { fence, type Fenced } from './fence.js';
export { runSession, type SessionEnd, type SessionParams } from './session.js';
