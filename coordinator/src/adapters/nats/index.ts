export { ensureFarmStreams, FARM_STREAM_CONFIGS } from './streams.js';
export { startAgentGateway, COORDINATOR_QUEUE_GROUP, type AgentGateway, type AgentGatewayOptions } from './agent-gateway.js';
export { FARM_ERROR_CODE_HEADER, FARM_ERROR_MESSAGE_HEADER } from './error-reply.js';
export { startResultsConsumer, ensureResultsConsumer, RESULTS_CONSUMER_NAME, type ResultsConsumer, type ResultsConsumerOptions } from './results-consumer.js';
export { JetStreamLogSource } from './jetstream-log-source.js';
