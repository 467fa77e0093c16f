// Original file: farm/v1/coordinator.proto


export interface ListAgentsRequest {
}

export interface ListAgentsRequest__Output {
}
