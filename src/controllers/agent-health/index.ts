/** agent-health: marks agent clusters whose agent stopped heartbeating ERROR and evicts their replicas after the grace period. */
export { AgentHealth, createAgentHealth, AGENT_HEARTBEAT_LABEL, DEFAULT_AGENT_STALE_HEARTBEATS } from './controller.js';
