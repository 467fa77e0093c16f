// Original file: farm/v1/coordinator.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddDerivationsRequest as _farm_v1_AddDerivationsRequest, AddDerivationsRequest__Output as _farm_v1_AddDerivationsRequest__Output } from '../../farm/v1/AddDerivationsRequest.js';
import type { AddDerivationsResponse as _farm_v1_AddDerivationsResponse, AddDerivationsResponse__Output as _farm_v1_AddDerivationsResponse__Output } from '../../farm/v1/AddDerivationsResponse.js';
import type { AddPathChunk as _farm_v1_AddPathChunk, AddPathChunk__Output as _farm_v1_AddPathChunk__Output } from '../../farm/v1/AddPathChunk.js';
import type { AddPathResponse as _farm_v1_AddPathResponse, AddPathResponse__Output as _farm_v1_AddPathResponse__Output } from '../../farm/v1/AddPathResponse.js';
import type { CancelRequest as _farm_v1_CancelRequest, CancelRequest__Output as _farm_v1_CancelRequest__Output } from '../../farm/v1/CancelRequest.js';
import type { CancelResponse as _farm_v1_CancelResponse, CancelResponse__Output as _farm_v1_CancelResponse__Output } from '../../farm/v1/CancelResponse.js';
import type { ExplainRequest as _farm_v1_ExplainRequest, ExplainRequest__Output as _farm_v1_ExplainRequest__Output } from '../../farm/v1/ExplainRequest.js';
import type { ExplainResponse as _farm_v1_ExplainResponse, ExplainResponse__Output as _farm_v1_ExplainResponse__Output } from '../../farm/v1/ExplainResponse.js';
import type { GetDoorInfoRequest as _farm_v1_GetDoorInfoRequest, GetDoorInfoRequest__Output as _farm_v1_GetDoorInfoRequest__Output } from '../../farm/v1/GetDoorInfoRequest.js';
import type { GetDoorInfoResponse as _farm_v1_GetDoorInfoResponse, GetDoorInfoResponse__Output as _farm_v1_GetDoorInfoResponse__Output } from '../../farm/v1/GetDoorInfoResponse.js';
import type { GetInfoRequest as _farm_v1_GetInfoRequest, GetInfoRequest__Output as _farm_v1_GetInfoRequest__Output } from '../../farm/v1/GetInfoRequest.js';
import type { GetInfoResponse as _farm_v1_GetInfoResponse, GetInfoResponse__Output as _farm_v1_GetInfoResponse__Output } from '../../farm/v1/GetInfoResponse.js';
import type { GetNarRequest as _farm_v1_GetNarRequest, GetNarRequest__Output as _farm_v1_GetNarRequest__Output } from '../../farm/v1/GetNarRequest.js';
import type { ListAgentsRequest as _farm_v1_ListAgentsRequest, ListAgentsRequest__Output as _farm_v1_ListAgentsRequest__Output } from '../../farm/v1/ListAgentsRequest.js';
import type { ListAgentsResponse as _farm_v1_ListAgentsResponse, ListAgentsResponse__Output as _farm_v1_ListAgentsResponse__Output } from '../../farm/v1/ListAgentsResponse.js';
import type { ListBuildsRequest as _farm_v1_ListBuildsRequest, ListBuildsRequest__Output as _farm_v1_ListBuildsRequest__Output } from '../../farm/v1/ListBuildsRequest.js';
import type { ListBuildsResponse as _farm_v1_ListBuildsResponse, ListBuildsResponse__Output as _farm_v1_ListBuildsResponse__Output } from '../../farm/v1/ListBuildsResponse.js';
import type { LogChunk as _farm_v1_LogChunk, LogChunk__Output as _farm_v1_LogChunk__Output } from '../../farm/v1/LogChunk.js';
import type { LogsRequest as _farm_v1_LogsRequest, LogsRequest__Output as _farm_v1_LogsRequest__Output } from '../../farm/v1/LogsRequest.js';
import type { NarChunk as _farm_v1_NarChunk, NarChunk__Output as _farm_v1_NarChunk__Output } from '../../farm/v1/NarChunk.js';
import type { NixSessionInput as _farm_v1_NixSessionInput, NixSessionInput__Output as _farm_v1_NixSessionInput__Output } from '../../farm/v1/NixSessionInput.js';
import type { NixSessionOutput as _farm_v1_NixSessionOutput, NixSessionOutput__Output as _farm_v1_NixSessionOutput__Output } from '../../farm/v1/NixSessionOutput.js';
import type { QueryMissingRequest as _farm_v1_QueryMissingRequest, QueryMissingRequest__Output as _farm_v1_QueryMissingRequest__Output } from '../../farm/v1/QueryMissingRequest.js';
import type { QueryMissingResponse as _farm_v1_QueryMissingResponse, QueryMissingResponse__Output as _farm_v1_QueryMissingResponse__Output } from '../../farm/v1/QueryMissingResponse.js';
import type { RetryRequest as _farm_v1_RetryRequest, RetryRequest__Output as _farm_v1_RetryRequest__Output } from '../../farm/v1/RetryRequest.js';
import type { RetryResponse as _farm_v1_RetryResponse, RetryResponse__Output as _farm_v1_RetryResponse__Output } from '../../farm/v1/RetryResponse.js';
import type { StatusRequest as _farm_v1_StatusRequest, StatusRequest__Output as _farm_v1_StatusRequest__Output } from '../../farm/v1/StatusRequest.js';
import type { StatusResponse as _farm_v1_StatusResponse, StatusResponse__Output as _farm_v1_StatusResponse__Output } from '../../farm/v1/StatusResponse.js';
import type { SubmissionEvent as _farm_v1_SubmissionEvent, SubmissionEvent__Output as _farm_v1_SubmissionEvent__Output } from '../../farm/v1/SubmissionEvent.js';
import type { SubmitRequest as _farm_v1_SubmitRequest, SubmitRequest__Output as _farm_v1_SubmitRequest__Output } from '../../farm/v1/SubmitRequest.js';
import type { SubmitResponse as _farm_v1_SubmitResponse, SubmitResponse__Output as _farm_v1_SubmitResponse__Output } from '../../farm/v1/SubmitResponse.js';
import type { WatchRequest as _farm_v1_WatchRequest, WatchRequest__Output as _farm_v1_WatchRequest__Output } from '../../farm/v1/WatchRequest.js';

/**
 * The coordinator's API for the CLI, the Nix door and agents' data transfers.
 * Control traffic with agents (register, heartbeat, leases, results, logs) runs over NATS
 * (agent.proto); bulk data (NARs) runs here.
 */
export interface CoordinatorClient extends grpc.Client {
  /**
   * Many .drv files in one call (the ATerm text only; the coordinator makes the NAR), each
   * verified exactly like an AddPath of that .drv, in the order given: a derivation's inputs must
   * be stored already or come earlier in the list. One call per few hundred derivations instead
   * of one AddPath each is what makes uploading a 1,000-derivation closure cheap.
   */
  AddDerivations(argument: _farm_v1_AddDerivationsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_AddDerivationsResponse__Output>): grpc.ClientUnaryCall;
  AddDerivations(argument: _farm_v1_AddDerivationsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_AddDerivationsResponse__Output>): grpc.ClientUnaryCall;
  AddDerivations(argument: _farm_v1_AddDerivationsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_AddDerivationsResponse__Output>): grpc.ClientUnaryCall;
  AddDerivations(argument: _farm_v1_AddDerivationsRequest, callback: grpc.requestCallback<_farm_v1_AddDerivationsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Many .drv files in one call (the ATerm text only; the coordinator makes the NAR), each
   * verified exactly like an AddPath of that .drv, in the order given: a derivation's inputs must
   * be stored already or come earlier in the list. One call per few hundred derivations instead
   * of one AddPath each is what makes uploading a 1,000-derivation closure cheap.
   */
  addDerivations(argument: _farm_v1_AddDerivationsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_AddDerivationsResponse__Output>): grpc.ClientUnaryCall;
  addDerivations(argument: _farm_v1_AddDerivationsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_AddDerivationsResponse__Output>): grpc.ClientUnaryCall;
  addDerivations(argument: _farm_v1_AddDerivationsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_AddDerivationsResponse__Output>): grpc.ClientUnaryCall;
  addDerivations(argument: _farm_v1_AddDerivationsRequest, callback: grpc.requestCallback<_farm_v1_AddDerivationsResponse__Output>): grpc.ClientUnaryCall;
  
  AddPath(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_AddPathResponse__Output>): grpc.ClientWritableStream<_farm_v1_AddPathChunk>;
  AddPath(metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_AddPathResponse__Output>): grpc.ClientWritableStream<_farm_v1_AddPathChunk>;
  AddPath(options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_AddPathResponse__Output>): grpc.ClientWritableStream<_farm_v1_AddPathChunk>;
  AddPath(callback: grpc.requestCallback<_farm_v1_AddPathResponse__Output>): grpc.ClientWritableStream<_farm_v1_AddPathChunk>;
  addPath(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_AddPathResponse__Output>): grpc.ClientWritableStream<_farm_v1_AddPathChunk>;
  addPath(metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_AddPathResponse__Output>): grpc.ClientWritableStream<_farm_v1_AddPathChunk>;
  addPath(options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_AddPathResponse__Output>): grpc.ClientWritableStream<_farm_v1_AddPathChunk>;
  addPath(callback: grpc.requestCallback<_farm_v1_AddPathResponse__Output>): grpc.ClientWritableStream<_farm_v1_AddPathChunk>;
  
  Cancel(argument: _farm_v1_CancelRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_CancelResponse__Output>): grpc.ClientUnaryCall;
  Cancel(argument: _farm_v1_CancelRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_CancelResponse__Output>): grpc.ClientUnaryCall;
  Cancel(argument: _farm_v1_CancelRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_CancelResponse__Output>): grpc.ClientUnaryCall;
  Cancel(argument: _farm_v1_CancelRequest, callback: grpc.requestCallback<_farm_v1_CancelResponse__Output>): grpc.ClientUnaryCall;
  cancel(argument: _farm_v1_CancelRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_CancelResponse__Output>): grpc.ClientUnaryCall;
  cancel(argument: _farm_v1_CancelRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_CancelResponse__Output>): grpc.ClientUnaryCall;
  cancel(argument: _farm_v1_CancelRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_CancelResponse__Output>): grpc.ClientUnaryCall;
  cancel(argument: _farm_v1_CancelRequest, callback: grpc.requestCallback<_farm_v1_CancelResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Why a job is where it is (`farm explain`): what a waiting job waits for, why a ready one is
   * not running (no fitting agent, backoff, busy agents and its place in the queue), or why a
   * running or finished one went to its agent.
   */
  Explain(argument: _farm_v1_ExplainRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_ExplainResponse__Output>): grpc.ClientUnaryCall;
  Explain(argument: _farm_v1_ExplainRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_ExplainResponse__Output>): grpc.ClientUnaryCall;
  Explain(argument: _farm_v1_ExplainRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_ExplainResponse__Output>): grpc.ClientUnaryCall;
  Explain(argument: _farm_v1_ExplainRequest, callback: grpc.requestCallback<_farm_v1_ExplainResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Why a job is where it is (`farm explain`): what a waiting job waits for, why a ready one is
   * not running (no fitting agent, backoff, busy agents and its place in the queue), or why a
   * running or finished one went to its agent.
   */
  explain(argument: _farm_v1_ExplainRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_ExplainResponse__Output>): grpc.ClientUnaryCall;
  explain(argument: _farm_v1_ExplainRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_ExplainResponse__Output>): grpc.ClientUnaryCall;
  explain(argument: _farm_v1_ExplainRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_ExplainResponse__Output>): grpc.ClientUnaryCall;
  explain(argument: _farm_v1_ExplainRequest, callback: grpc.requestCallback<_farm_v1_ExplainResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Where the Nix door listens and the keys a client needs (`farm cache key`).
   */
  GetDoorInfo(argument: _farm_v1_GetDoorInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_GetDoorInfoResponse__Output>): grpc.ClientUnaryCall;
  GetDoorInfo(argument: _farm_v1_GetDoorInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_GetDoorInfoResponse__Output>): grpc.ClientUnaryCall;
  GetDoorInfo(argument: _farm_v1_GetDoorInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_GetDoorInfoResponse__Output>): grpc.ClientUnaryCall;
  GetDoorInfo(argument: _farm_v1_GetDoorInfoRequest, callback: grpc.requestCallback<_farm_v1_GetDoorInfoResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Where the Nix door listens and the keys a client needs (`farm cache key`).
   */
  getDoorInfo(argument: _farm_v1_GetDoorInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_GetDoorInfoResponse__Output>): grpc.ClientUnaryCall;
  getDoorInfo(argument: _farm_v1_GetDoorInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_GetDoorInfoResponse__Output>): grpc.ClientUnaryCall;
  getDoorInfo(argument: _farm_v1_GetDoorInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_GetDoorInfoResponse__Output>): grpc.ClientUnaryCall;
  getDoorInfo(argument: _farm_v1_GetDoorInfoRequest, callback: grpc.requestCallback<_farm_v1_GetDoorInfoResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Cheap liveness and version check; the CLI calls it before anything else.
   */
  GetInfo(argument: _farm_v1_GetInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  GetInfo(argument: _farm_v1_GetInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  GetInfo(argument: _farm_v1_GetInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  GetInfo(argument: _farm_v1_GetInfoRequest, callback: grpc.requestCallback<_farm_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Cheap liveness and version check; the CLI calls it before anything else.
   */
  getInfo(argument: _farm_v1_GetInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  getInfo(argument: _farm_v1_GetInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  getInfo(argument: _farm_v1_GetInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  getInfo(argument: _farm_v1_GetInfoRequest, callback: grpc.requestCallback<_farm_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  
  GetNar(argument: _farm_v1_GetNarRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_farm_v1_NarChunk__Output>;
  GetNar(argument: _farm_v1_GetNarRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_farm_v1_NarChunk__Output>;
  getNar(argument: _farm_v1_GetNarRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_farm_v1_NarChunk__Output>;
  getNar(argument: _farm_v1_GetNarRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_farm_v1_NarChunk__Output>;
  
  ListAgents(argument: _farm_v1_ListAgentsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  ListAgents(argument: _farm_v1_ListAgentsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  ListAgents(argument: _farm_v1_ListAgentsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  ListAgents(argument: _farm_v1_ListAgentsRequest, callback: grpc.requestCallback<_farm_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _farm_v1_ListAgentsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _farm_v1_ListAgentsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _farm_v1_ListAgentsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _farm_v1_ListAgentsRequest, callback: grpc.requestCallback<_farm_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  
  ListBuilds(argument: _farm_v1_ListBuildsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_ListBuildsResponse__Output>): grpc.ClientUnaryCall;
  ListBuilds(argument: _farm_v1_ListBuildsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_ListBuildsResponse__Output>): grpc.ClientUnaryCall;
  ListBuilds(argument: _farm_v1_ListBuildsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_ListBuildsResponse__Output>): grpc.ClientUnaryCall;
  ListBuilds(argument: _farm_v1_ListBuildsRequest, callback: grpc.requestCallback<_farm_v1_ListBuildsResponse__Output>): grpc.ClientUnaryCall;
  listBuilds(argument: _farm_v1_ListBuildsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_ListBuildsResponse__Output>): grpc.ClientUnaryCall;
  listBuilds(argument: _farm_v1_ListBuildsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_ListBuildsResponse__Output>): grpc.ClientUnaryCall;
  listBuilds(argument: _farm_v1_ListBuildsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_ListBuildsResponse__Output>): grpc.ClientUnaryCall;
  listBuilds(argument: _farm_v1_ListBuildsRequest, callback: grpc.requestCallback<_farm_v1_ListBuildsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * A job's build log: the whole history, then live lines when `follow` is set.
   */
  Logs(argument: _farm_v1_LogsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_farm_v1_LogChunk__Output>;
  Logs(argument: _farm_v1_LogsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_farm_v1_LogChunk__Output>;
  /**
   * A job's build log: the whole history, then live lines when `follow` is set.
   */
  logs(argument: _farm_v1_LogsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_farm_v1_LogChunk__Output>;
  logs(argument: _farm_v1_LogsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_farm_v1_LogChunk__Output>;
  
  /**
   * The Nix door over gRPC (`farm nix-stdio`, a `remote-program` for ssh:// and ssh-ng://): one
   * session of Nix's serve or worker protocol. The client's first message opens it; then its
   * stdin bytes; ending the stream is stdin's EOF. The server answers with the protocol bytes
   * (stdout), log text (stderr: the build log of ssh:// sessions, errors) and last the exit status.
   */
  NixSession(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_farm_v1_NixSessionInput, _farm_v1_NixSessionOutput__Output>;
  NixSession(options?: grpc.CallOptions): grpc.ClientDuplexStream<_farm_v1_NixSessionInput, _farm_v1_NixSessionOutput__Output>;
  /**
   * The Nix door over gRPC (`farm nix-stdio`, a `remote-program` for ssh:// and ssh-ng://): one
   * session of Nix's serve or worker protocol. The client's first message opens it; then its
   * stdin bytes; ending the stream is stdin's EOF. The server answers with the protocol bytes
   * (stdout), log text (stderr: the build log of ssh:// sessions, errors) and last the exit status.
   */
  nixSession(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_farm_v1_NixSessionInput, _farm_v1_NixSessionOutput__Output>;
  nixSession(options?: grpc.CallOptions): grpc.ClientDuplexStream<_farm_v1_NixSessionInput, _farm_v1_NixSessionOutput__Output>;
  
  /**
   * Upload only what is missing: ask first, then stream each missing path (dependencies first).
   */
  QueryMissing(argument: _farm_v1_QueryMissingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_QueryMissingResponse__Output>): grpc.ClientUnaryCall;
  QueryMissing(argument: _farm_v1_QueryMissingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_QueryMissingResponse__Output>): grpc.ClientUnaryCall;
  QueryMissing(argument: _farm_v1_QueryMissingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_QueryMissingResponse__Output>): grpc.ClientUnaryCall;
  QueryMissing(argument: _farm_v1_QueryMissingRequest, callback: grpc.requestCallback<_farm_v1_QueryMissingResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Upload only what is missing: ask first, then stream each missing path (dependencies first).
   */
  queryMissing(argument: _farm_v1_QueryMissingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_QueryMissingResponse__Output>): grpc.ClientUnaryCall;
  queryMissing(argument: _farm_v1_QueryMissingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_QueryMissingResponse__Output>): grpc.ClientUnaryCall;
  queryMissing(argument: _farm_v1_QueryMissingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_QueryMissingResponse__Output>): grpc.ClientUnaryCall;
  queryMissing(argument: _farm_v1_QueryMissingRequest, callback: grpc.requestCallback<_farm_v1_QueryMissingResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * `farm retry`: forget the cached build failures of a submission (or of one job) and submit
   * anew, so the failed derivations and their dependents are built again. A new submission:
   * done submissions never change.
   */
  Retry(argument: _farm_v1_RetryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_RetryResponse__Output>): grpc.ClientUnaryCall;
  Retry(argument: _farm_v1_RetryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_RetryResponse__Output>): grpc.ClientUnaryCall;
  Retry(argument: _farm_v1_RetryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_RetryResponse__Output>): grpc.ClientUnaryCall;
  Retry(argument: _farm_v1_RetryRequest, callback: grpc.requestCallback<_farm_v1_RetryResponse__Output>): grpc.ClientUnaryCall;
  /**
   * `farm retry`: forget the cached build failures of a submission (or of one job) and submit
   * anew, so the failed derivations and their dependents are built again. A new submission:
   * done submissions never change.
   */
  retry(argument: _farm_v1_RetryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_RetryResponse__Output>): grpc.ClientUnaryCall;
  retry(argument: _farm_v1_RetryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_RetryResponse__Output>): grpc.ClientUnaryCall;
  retry(argument: _farm_v1_RetryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_RetryResponse__Output>): grpc.ClientUnaryCall;
  retry(argument: _farm_v1_RetryRequest, callback: grpc.requestCallback<_farm_v1_RetryResponse__Output>): grpc.ClientUnaryCall;
  
  Status(argument: _farm_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _farm_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _farm_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _farm_v1_StatusRequest, callback: grpc.requestCallback<_farm_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _farm_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _farm_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _farm_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _farm_v1_StatusRequest, callback: grpc.requestCallback<_farm_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Admit a DAG whose .drv closure is already uploaded; returns at once with the plan.
   */
  Submit(argument: _farm_v1_SubmitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  Submit(argument: _farm_v1_SubmitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  Submit(argument: _farm_v1_SubmitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  Submit(argument: _farm_v1_SubmitRequest, callback: grpc.requestCallback<_farm_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Admit a DAG whose .drv closure is already uploaded; returns at once with the plan.
   */
  submit(argument: _farm_v1_SubmitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  submit(argument: _farm_v1_SubmitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_farm_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  submit(argument: _farm_v1_SubmitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_farm_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  submit(argument: _farm_v1_SubmitRequest, callback: grpc.requestCallback<_farm_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Live events of a submission, replayed from `from_sequence` (so a reconnect misses nothing).
   */
  Watch(argument: _farm_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_farm_v1_SubmissionEvent__Output>;
  Watch(argument: _farm_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_farm_v1_SubmissionEvent__Output>;
  /**
   * Live events of a submission, replayed from `from_sequence` (so a reconnect misses nothing).
   */
  watch(argument: _farm_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_farm_v1_SubmissionEvent__Output>;
  watch(argument: _farm_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_farm_v1_SubmissionEvent__Output>;
  
}

/**
 * The coordinator's API for the CLI, the Nix door and agents' data transfers.
 * Control traffic with agents (register, heartbeat, leases, results, logs) runs over NATS
 * (agent.proto); bulk data (NARs) runs here.
 */
export interface CoordinatorHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Many .drv files in one call (the ATerm text only; the coordinator makes the NAR), each
   * verified exactly like an AddPath of that .drv, in the order given: a derivation's inputs must
   * be stored already or come earlier in the list. One call per few hundred derivations instead
   * of one AddPath each is what makes uploading a 1,000-derivation closure cheap.
   */
  AddDerivations: grpc.handleUnaryCall<_farm_v1_AddDerivationsRequest__Output, _farm_v1_AddDerivationsResponse>;
  
  AddPath: grpc.handleClientStreamingCall<_farm_v1_AddPathChunk__Output, _farm_v1_AddPathResponse>;
  
  Cancel: grpc.handleUnaryCall<_farm_v1_CancelRequest__Output, _farm_v1_CancelResponse>;
  
  /**
   * Why a job is where it is (`farm explain`): what a waiting job waits for, why a ready one is
   * not running (no fitting agent, backoff, busy agents and its place in the queue), or why a
   * running or finished one went to its agent.
   */
  Explain: grpc.handleUnaryCall<_farm_v1_ExplainRequest__Output, _farm_v1_ExplainResponse>;
  
  /**
   * Where the Nix door listens and the keys a client needs (`farm cache key`).
   */
  GetDoorInfo: grpc.handleUnaryCall<_farm_v1_GetDoorInfoRequest__Output, _farm_v1_GetDoorInfoResponse>;
  
  /**
   * Cheap liveness and version check; the CLI calls it before anything else.
   */
  GetInfo: grpc.handleUnaryCall<_farm_v1_GetInfoRequest__Output, _farm_v1_GetInfoResponse>;
  
  GetNar: grpc.handleServerStreamingCall<_farm_v1_GetNarRequest__Output, _farm_v1_NarChunk>;
  
  ListAgents: grpc.handleUnaryCall<_farm_v1_ListAgentsRequest__Output, _farm_v1_ListAgentsResponse>;
  
  ListBuilds: grpc.handleUnaryCall<_farm_v1_ListBuildsRequest__Output, _farm_v1_ListBuildsResponse>;
  
  /**
   * A job's build log: the whole history, then live lines when `follow` is set.
   */
  Logs: grpc.handleServerStreamingCall<_farm_v1_LogsRequest__Output, _farm_v1_LogChunk>;
  
  /**
   * The Nix door over gRPC (`farm nix-stdio`, a `remote-program` for ssh:// and ssh-ng://): one
   * session of Nix's serve or worker protocol. The client's first message opens it; then its
   * stdin bytes; ending the stream is stdin's EOF. The server answers with the protocol bytes
   * (stdout), log text (stderr: the build log of ssh:// sessions, errors) and last the exit status.
   */
  NixSession: grpc.handleBidiStreamingCall<_farm_v1_NixSessionInput__Output, _farm_v1_NixSessionOutput>;
  
  /**
   * Upload only what is missing: ask first, then stream each missing path (dependencies first).
   */
  QueryMissing: grpc.handleUnaryCall<_farm_v1_QueryMissingRequest__Output, _farm_v1_QueryMissingResponse>;
  
  /**
   * `farm retry`: forget the cached build failures of a submission (or of one job) and submit
   * anew, so the failed derivations and their dependents are built again. A new submission:
   * done submissions never change.
   */
  Retry: grpc.handleUnaryCall<_farm_v1_RetryRequest__Output, _farm_v1_RetryResponse>;
  
  Status: grpc.handleUnaryCall<_farm_v1_StatusRequest__Output, _farm_v1_StatusResponse>;
  
  /**
   * Admit a DAG whose .drv closure is already uploaded; returns at once with the plan.
   */
  Submit: grpc.handleUnaryCall<_farm_v1_SubmitRequest__Output, _farm_v1_SubmitResponse>;
  
  /**
   * Live events of a submission, replayed from `from_sequence` (so a reconnect misses nothing).
   */
  Watch: grpc.handleServerStreamingCall<_farm_v1_WatchRequest__Output, _farm_v1_SubmissionEvent>;
  
}

export interface CoordinatorDefinition extends grpc.ServiceDefinition {
  AddDerivations: MethodDefinition<_farm_v1_AddDerivationsRequest, _farm_v1_AddDerivationsResponse, _farm_v1_AddDerivationsRequest__Output, _farm_v1_AddDerivationsResponse__Output>
  AddPath: MethodDefinition<_farm_v1_AddPathChunk, _farm_v1_AddPathResponse, _farm_v1_AddPathChunk__Output, _farm_v1_AddPathResponse__Output>
  Cancel: MethodDefinition<_farm_v1_CancelRequest, _farm_v1_CancelResponse, _farm_v1_CancelRequest__Output, _farm_v1_CancelResponse__Output>
  Explain: MethodDefinition<_farm_v1_ExplainRequest, _farm_v1_ExplainResponse, _farm_v1_ExplainRequest__Output, _farm_v1_ExplainResponse__Output>
  GetDoorInfo: MethodDefinition<_farm_v1_GetDoorInfoRequest, _farm_v1_GetDoorInfoResponse, _farm_v1_GetDoorInfoRequest__Output, _farm_v1_GetDoorInfoResponse__Output>
  GetInfo: MethodDefinition<_farm_v1_GetInfoRequest, _farm_v1_GetInfoResponse, _farm_v1_GetInfoRequest__Output, _farm_v1_GetInfoResponse__Output>
  GetNar: MethodDefinition<_farm_v1_GetNarRequest, _farm_v1_NarChunk, _farm_v1_GetNarRequest__Output, _farm_v1_NarChunk__Output>
  ListAgents: MethodDefinition<_farm_v1_ListAgentsRequest, _farm_v1_ListAgentsResponse, _farm_v1_ListAgentsRequest__Output, _farm_v1_ListAgentsResponse__Output>
  ListBuilds: MethodDefinition<_farm_v1_ListBuildsRequest, _farm_v1_ListBuildsResponse, _farm_v1_ListBuildsRequest__Output, _farm_v1_ListBuildsResponse__Output>
  Logs: MethodDefinition<_farm_v1_LogsRequest, _farm_v1_LogChunk, _farm_v1_LogsRequest__Output, _farm_v1_LogChunk__Output>
  NixSession: MethodDefinition<_farm_v1_NixSessionInput, _farm_v1_NixSessionOutput, _farm_v1_NixSessionInput__Output, _farm_v1_NixSessionOutput__Output>
  QueryMissing: MethodDefinition<_farm_v1_QueryMissingRequest, _farm_v1_QueryMissingResponse, _farm_v1_QueryMissingRequest__Output, _farm_v1_QueryMissingResponse__Output>
  Retry: MethodDefinition<_farm_v1_RetryRequest, _farm_v1_RetryResponse, _farm_v1_RetryRequest__Output, _farm_v1_RetryResponse__Output>
  Status: MethodDefinition<_farm_v1_StatusRequest, _farm_v1_StatusResponse, _farm_v1_StatusRequest__Output, _farm_v1_StatusResponse__Output>
  Submit: MethodDefinition<_farm_v1_SubmitRequest, _farm_v1_SubmitResponse, _farm_v1_SubmitRequest__Output, _farm_v1_SubmitResponse__Output>
  Watch: MethodDefinition<_farm_v1_WatchRequest, _farm_v1_SubmissionEvent, _farm_v1_WatchRequest__Output, _farm_v1_SubmissionEvent__Output>
}
