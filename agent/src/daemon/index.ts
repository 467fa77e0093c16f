export { compileAgentConfig, defaultAgentName, AGENT_NAME_RE, type AgentConfig } from './config.js';
export { startAgent, AGENT_VERSION, type RunningAgent, type AgentDeps } from './start-agent.js';
export { hostProbe, readBinfmtEntries } from './host-probe.js';
