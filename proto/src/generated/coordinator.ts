import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddDerivationsRequest as _farm_v1_AddDerivationsRequest, AddDerivationsRequest__Output as _farm_v1_AddDerivationsRequest__Output } from './farm/v1/AddDerivationsRequest.js';
import type { AddDerivationsResponse as _farm_v1_AddDerivationsResponse, AddDerivationsResponse__Output as _farm_v1_AddDerivationsResponse__Output } from './farm/v1/AddDerivationsResponse.js';
import type { AddPathChunk as _farm_v1_AddPathChunk, AddPathChunk__Output as _farm_v1_AddPathChunk__Output } from './farm/v1/AddPathChunk.js';
import type { AddPathHeader as _farm_v1_AddPathHeader, AddPathHeader__Output as _farm_v1_AddPathHeader__Output } from './farm/v1/AddPathHeader.js';
import type { AddPathResponse as _farm_v1_AddPathResponse, AddPathResponse__Output as _farm_v1_AddPathResponse__Output } from './farm/v1/AddPathResponse.js';
import type { AgentInfo as _farm_v1_AgentInfo, AgentInfo__Output as _farm_v1_AgentInfo__Output } from './farm/v1/AgentInfo.js';
import type { BuildRecord as _farm_v1_BuildRecord, BuildRecord__Output as _farm_v1_BuildRecord__Output } from './farm/v1/BuildRecord.js';
import type { CancelRequest as _farm_v1_CancelRequest, CancelRequest__Output as _farm_v1_CancelRequest__Output } from './farm/v1/CancelRequest.js';
import type { CancelResponse as _farm_v1_CancelResponse, CancelResponse__Output as _farm_v1_CancelResponse__Output } from './farm/v1/CancelResponse.js';
import type { Capabilities as _farm_v1_Capabilities, Capabilities__Output as _farm_v1_Capabilities__Output } from './farm/v1/Capabilities.js';
import type { CoordinatorClient as _farm_v1_CoordinatorClient, CoordinatorDefinition as _farm_v1_CoordinatorDefinition } from './farm/v1/Coordinator.js';
import type { DerivationUpload as _farm_v1_DerivationUpload, DerivationUpload__Output as _farm_v1_DerivationUpload__Output } from './farm/v1/DerivationUpload.js';
import type { ErrorDetail as _farm_v1_ErrorDetail, ErrorDetail__Output as _farm_v1_ErrorDetail__Output } from './farm/v1/ErrorDetail.js';
import type { ExplainAgent as _farm_v1_ExplainAgent, ExplainAgent__Output as _farm_v1_ExplainAgent__Output } from './farm/v1/ExplainAgent.js';
import type { ExplainRequest as _farm_v1_ExplainRequest, ExplainRequest__Output as _farm_v1_ExplainRequest__Output } from './farm/v1/ExplainRequest.js';
import type { ExplainResponse as _farm_v1_ExplainResponse, ExplainResponse__Output as _farm_v1_ExplainResponse__Output } from './farm/v1/ExplainResponse.js';
import type { ExplainWaitingInput as _farm_v1_ExplainWaitingInput, ExplainWaitingInput__Output as _farm_v1_ExplainWaitingInput__Output } from './farm/v1/ExplainWaitingInput.js';
import type { GetDoorInfoRequest as _farm_v1_GetDoorInfoRequest, GetDoorInfoRequest__Output as _farm_v1_GetDoorInfoRequest__Output } from './farm/v1/GetDoorInfoRequest.js';
import type { GetDoorInfoResponse as _farm_v1_GetDoorInfoResponse, GetDoorInfoResponse__Output as _farm_v1_GetDoorInfoResponse__Output } from './farm/v1/GetDoorInfoResponse.js';
import type { GetInfoRequest as _farm_v1_GetInfoRequest, GetInfoRequest__Output as _farm_v1_GetInfoRequest__Output } from './farm/v1/GetInfoRequest.js';
import type { GetInfoResponse as _farm_v1_GetInfoResponse, GetInfoResponse__Output as _farm_v1_GetInfoResponse__Output } from './farm/v1/GetInfoResponse.js';
import type { GetNarRequest as _farm_v1_GetNarRequest, GetNarRequest__Output as _farm_v1_GetNarRequest__Output } from './farm/v1/GetNarRequest.js';
import type { Lease as _farm_v1_Lease, Lease__Output as _farm_v1_Lease__Output } from './farm/v1/Lease.js';
import type { ListAgentsRequest as _farm_v1_ListAgentsRequest, ListAgentsRequest__Output as _farm_v1_ListAgentsRequest__Output } from './farm/v1/ListAgentsRequest.js';
import type { ListAgentsResponse as _farm_v1_ListAgentsResponse, ListAgentsResponse__Output as _farm_v1_ListAgentsResponse__Output } from './farm/v1/ListAgentsResponse.js';
import type { ListBuildsRequest as _farm_v1_ListBuildsRequest, ListBuildsRequest__Output as _farm_v1_ListBuildsRequest__Output } from './farm/v1/ListBuildsRequest.js';
import type { ListBuildsResponse as _farm_v1_ListBuildsResponse, ListBuildsResponse__Output as _farm_v1_ListBuildsResponse__Output } from './farm/v1/ListBuildsResponse.js';
import type { LogChunk as _farm_v1_LogChunk, LogChunk__Output as _farm_v1_LogChunk__Output } from './farm/v1/LogChunk.js';
import type { LogsRequest as _farm_v1_LogsRequest, LogsRequest__Output as _farm_v1_LogsRequest__Output } from './farm/v1/LogsRequest.js';
import type { NarChunk as _farm_v1_NarChunk, NarChunk__Output as _farm_v1_NarChunk__Output } from './farm/v1/NarChunk.js';
import type { NixSessionInput as _farm_v1_NixSessionInput, NixSessionInput__Output as _farm_v1_NixSessionInput__Output } from './farm/v1/NixSessionInput.js';
import type { NixSessionOpen as _farm_v1_NixSessionOpen, NixSessionOpen__Output as _farm_v1_NixSessionOpen__Output } from './farm/v1/NixSessionOpen.js';
import type { NixSessionOutput as _farm_v1_NixSessionOutput, NixSessionOutput__Output as _farm_v1_NixSessionOutput__Output } from './farm/v1/NixSessionOutput.js';
import type { PathInfo as _farm_v1_PathInfo, PathInfo__Output as _farm_v1_PathInfo__Output } from './farm/v1/PathInfo.js';
import type { QueryMissingRequest as _farm_v1_QueryMissingRequest, QueryMissingRequest__Output as _farm_v1_QueryMissingRequest__Output } from './farm/v1/QueryMissingRequest.js';
import type { QueryMissingResponse as _farm_v1_QueryMissingResponse, QueryMissingResponse__Output as _farm_v1_QueryMissingResponse__Output } from './farm/v1/QueryMissingResponse.js';
import type { RetryRequest as _farm_v1_RetryRequest, RetryRequest__Output as _farm_v1_RetryRequest__Output } from './farm/v1/RetryRequest.js';
import type { RetryResponse as _farm_v1_RetryResponse, RetryResponse__Output as _farm_v1_RetryResponse__Output } from './farm/v1/RetryResponse.js';
import type { StatusRequest as _farm_v1_StatusRequest, StatusRequest__Output as _farm_v1_StatusRequest__Output } from './farm/v1/StatusRequest.js';
import type { StatusResponse as _farm_v1_StatusResponse, StatusResponse__Output as _farm_v1_StatusResponse__Output } from './farm/v1/StatusResponse.js';
import type { SubmissionEvent as _farm_v1_SubmissionEvent, SubmissionEvent__Output as _farm_v1_SubmissionEvent__Output } from './farm/v1/SubmissionEvent.js';
import type { SubmissionSummary as _farm_v1_SubmissionSummary, SubmissionSummary__Output as _farm_v1_SubmissionSummary__Output } from './farm/v1/SubmissionSummary.js';
import type { SubmitRequest as _farm_v1_SubmitRequest, SubmitRequest__Output as _farm_v1_SubmitRequest__Output } from './farm/v1/SubmitRequest.js';
import type { SubmitResponse as _farm_v1_SubmitResponse, SubmitResponse__Output as _farm_v1_SubmitResponse__Output } from './farm/v1/SubmitResponse.js';
import type { WatchRequest as _farm_v1_WatchRequest, WatchRequest__Output as _farm_v1_WatchRequest__Output } from './farm/v1/WatchRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  farm: {
    v1: {
      AddDerivationsRequest: MessageTypeDefinition<_farm_v1_AddDerivationsRequest, _farm_v1_AddDerivationsRequest__Output>
      AddDerivationsResponse: MessageTypeDefinition<_farm_v1_AddDerivationsResponse, _farm_v1_AddDerivationsResponse__Output>
      AddPathChunk: MessageTypeDefinition<_farm_v1_AddPathChunk, _farm_v1_AddPathChunk__Output>
      AddPathHeader: MessageTypeDefinition<_farm_v1_AddPathHeader, _farm_v1_AddPathHeader__Output>
      AddPathResponse: MessageTypeDefinition<_farm_v1_AddPathResponse, _farm_v1_AddPathResponse__Output>
      AgentInfo: MessageTypeDefinition<_farm_v1_AgentInfo, _farm_v1_AgentInfo__Output>
      BuildRecord: MessageTypeDefinition<_farm_v1_BuildRecord, _farm_v1_BuildRecord__Output>
      CancelRequest: MessageTypeDefinition<_farm_v1_CancelRequest, _farm_v1_CancelRequest__Output>
      CancelResponse: MessageTypeDefinition<_farm_v1_CancelResponse, _farm_v1_CancelResponse__Output>
      Capabilities: MessageTypeDefinition<_farm_v1_Capabilities, _farm_v1_Capabilities__Output>
      /**
       * The coordinator's API for the CLI, the Nix door and agents' data transfers.
       * Control traffic with agents (register, heartbeat, leases, results, logs) runs over NATS
       * (agent.proto); bulk data (NARs) runs here.
       */
      Coordinator: SubtypeConstructor<typeof grpc.Client, _farm_v1_CoordinatorClient> & { service: _farm_v1_CoordinatorDefinition }
      DerivationUpload: MessageTypeDefinition<_farm_v1_DerivationUpload, _farm_v1_DerivationUpload__Output>
      ErrorDetail: MessageTypeDefinition<_farm_v1_ErrorDetail, _farm_v1_ErrorDetail__Output>
      ExplainAgent: MessageTypeDefinition<_farm_v1_ExplainAgent, _farm_v1_ExplainAgent__Output>
      ExplainRequest: MessageTypeDefinition<_farm_v1_ExplainRequest, _farm_v1_ExplainRequest__Output>
      ExplainResponse: MessageTypeDefinition<_farm_v1_ExplainResponse, _farm_v1_ExplainResponse__Output>
      ExplainWaitingInput: MessageTypeDefinition<_farm_v1_ExplainWaitingInput, _farm_v1_ExplainWaitingInput__Output>
      GetDoorInfoRequest: MessageTypeDefinition<_farm_v1_GetDoorInfoRequest, _farm_v1_GetDoorInfoRequest__Output>
      GetDoorInfoResponse: MessageTypeDefinition<_farm_v1_GetDoorInfoResponse, _farm_v1_GetDoorInfoResponse__Output>
      GetInfoRequest: MessageTypeDefinition<_farm_v1_GetInfoRequest, _farm_v1_GetInfoRequest__Output>
      GetInfoResponse: MessageTypeDefinition<_farm_v1_GetInfoResponse, _farm_v1_GetInfoResponse__Output>
      GetNarRequest: MessageTypeDefinition<_farm_v1_GetNarRequest, _farm_v1_GetNarRequest__Output>
      JobState: EnumTypeDefinition
      Lease: MessageTypeDefinition<_farm_v1_Lease, _farm_v1_Lease__Output>
      ListAgentsRequest: MessageTypeDefinition<_farm_v1_ListAgentsRequest, _farm_v1_ListAgentsRequest__Output>
      ListAgentsResponse: MessageTypeDefinition<_farm_v1_ListAgentsResponse, _farm_v1_ListAgentsResponse__Output>
      ListBuildsRequest: MessageTypeDefinition<_farm_v1_ListBuildsRequest, _farm_v1_ListBuildsRequest__Output>
      ListBuildsResponse: MessageTypeDefinition<_farm_v1_ListBuildsResponse, _farm_v1_ListBuildsResponse__Output>
      LogChunk: MessageTypeDefinition<_farm_v1_LogChunk, _farm_v1_LogChunk__Output>
      LogsRequest: MessageTypeDefinition<_farm_v1_LogsRequest, _farm_v1_LogsRequest__Output>
      NarChunk: MessageTypeDefinition<_farm_v1_NarChunk, _farm_v1_NarChunk__Output>
      NixSessionInput: MessageTypeDefinition<_farm_v1_NixSessionInput, _farm_v1_NixSessionInput__Output>
      NixSessionOpen: MessageTypeDefinition<_farm_v1_NixSessionOpen, _farm_v1_NixSessionOpen__Output>
      NixSessionOutput: MessageTypeDefinition<_farm_v1_NixSessionOutput, _farm_v1_NixSessionOutput__Output>
      PathInfo: MessageTypeDefinition<_farm_v1_PathInfo, _farm_v1_PathInfo__Output>
      QueryMissingRequest: MessageTypeDefinition<_farm_v1_QueryMissingRequest, _farm_v1_QueryMissingRequest__Output>
      QueryMissingResponse: MessageTypeDefinition<_farm_v1_QueryMissingResponse, _farm_v1_QueryMissingResponse__Output>
      RetryRequest: MessageTypeDefinition<_farm_v1_RetryRequest, _farm_v1_RetryRequest__Output>
      RetryResponse: MessageTypeDefinition<_farm_v1_RetryResponse, _farm_v1_RetryResponse__Output>
      StatusRequest: MessageTypeDefinition<_farm_v1_StatusRequest, _farm_v1_StatusRequest__Output>
      StatusResponse: MessageTypeDefinition<_farm_v1_StatusResponse, _farm_v1_StatusResponse__Output>
      SubmissionEvent: MessageTypeDefinition<_farm_v1_SubmissionEvent, _farm_v1_SubmissionEvent__Output>
      SubmissionSummary: MessageTypeDefinition<_farm_v1_SubmissionSummary, _farm_v1_SubmissionSummary__Output>
      SubmitRequest: MessageTypeDefinition<_farm_v1_SubmitRequest, _farm_v1_SubmitRequest__Output>
      SubmitResponse: MessageTypeDefinition<_farm_v1_SubmitResponse, _farm_v1_SubmitResponse__Output>
      WatchRequest: MessageTypeDefinition<_farm_v1_WatchRequest, _farm_v1_WatchRequest__Output>
    }
  }
}

