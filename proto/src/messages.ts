/**
 * The generated message types, re-exported under their proto names. `X` is what a sender may
 * pass (permissive); `X__Output` is what a receiver gets (every field present, 64-bit integers
 * as decimal strings, enums as names, bytes as Buffer).
 */
export type * from './generated/farm/v1/AddDerivationsRequest.js';
export type * from './generated/farm/v1/AddDerivationsResponse.js';
export type * from './generated/farm/v1/AddPathChunk.js';
export type * from './generated/farm/v1/AddPathHeader.js';
export type * from './generated/farm/v1/AddPathResponse.js';
export type * from './generated/farm/v1/AgentHello.js';
export type * from './generated/farm/v1/AgentInfo.js';
export type * from './generated/farm/v1/AgentWelcome.js';
export type * from './generated/farm/v1/Assignment.js';
export type * from './generated/farm/v1/BasicDerivation.js';
export type * from './generated/farm/v1/BuildRecord.js';
export type * from './generated/farm/v1/BuildResult.js';
export type * from './generated/farm/v1/BuildStatus.js';
export type * from './generated/farm/v1/CancelRequest.js';
export type * from './generated/farm/v1/CancelResponse.js';
export type * from './generated/farm/v1/Capabilities.js';
export type * from './generated/farm/v1/DerivationUpload.js';
export type * from './generated/farm/v1/ErrorDetail.js';
export type * from './generated/farm/v1/ExplainAgent.js';
export type * from './generated/farm/v1/ExplainRequest.js';
export type * from './generated/farm/v1/ExplainResponse.js';
export type * from './generated/farm/v1/ExplainWaitingInput.js';
export type * from './generated/farm/v1/GetInfoRequest.js';
export type * from './generated/farm/v1/GetInfoResponse.js';
export type * from './generated/farm/v1/GetNarRequest.js';
export type * from './generated/farm/v1/Heartbeat.js';
export type * from './generated/farm/v1/HeartbeatAck.js';
export type * from './generated/farm/v1/InlineNar.js';
export type * from './generated/farm/v1/JobState.js';
export type * from './generated/farm/v1/Lease.js';
export type * from './generated/farm/v1/ListAgentsRequest.js';
export type * from './generated/farm/v1/ListAgentsResponse.js';
export type * from './generated/farm/v1/ListBuildsRequest.js';
export type * from './generated/farm/v1/ListBuildsResponse.js';
export type * from './generated/farm/v1/LogChunk.js';
export type * from './generated/farm/v1/LogsRequest.js';
export type * from './generated/farm/v1/NarChunk.js';
export type * from './generated/farm/v1/PathInfo.js';
export type * from './generated/farm/v1/QueryMissingRequest.js';
export type * from './generated/farm/v1/QueryMissingResponse.js';
export type * from './generated/farm/v1/RetryRequest.js';
export type * from './generated/farm/v1/RetryResponse.js';
export type * from './generated/farm/v1/Revoke.js';
export type * from './generated/farm/v1/StatusRequest.js';
export type * from './generated/farm/v1/StatusResponse.js';
export type * from './generated/farm/v1/SubmissionEvent.js';
export type * from './generated/farm/v1/SubmissionSummary.js';
export type * from './generated/farm/v1/SubmitRequest.js';
export type * from './generated/farm/v1/SubmitResponse.js';
export type * from './generated/farm/v1/WatchRequest.js';
export type * from './generated/farm/v1/WorkReply.js';
export type * from './generated/farm/v1/WorkRequest.js';
