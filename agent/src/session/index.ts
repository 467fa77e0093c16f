export { AgentSession, WORK_WAIT_MS, type SessionOptions } from './agent-session.js';
export { LeaseTable, type HeldLease, type StopReason } from './lease-table.js';
export { runAttempt, pathInfoOf, type AttemptDeps, type AttemptReport } from './run-attempt.js';
export { viewAssignment, type AssignmentView } from './assignment.js';
export { referenceOrder, type OutputOrder } from './output-order.js';
export { wireStatusOf, buildResultMessage, type AttemptOutcome, type WireBuildStatus } from './result-message.js';
export { natsRequest, FARM_ERROR_CODE_HEADER, FARM_ERROR_MESSAGE_HEADER } from './nats-rpc.js';
