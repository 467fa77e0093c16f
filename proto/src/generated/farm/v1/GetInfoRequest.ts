// Original file: farm/v1/coordinator.proto


export interface GetInfoRequest {
}

export interface GetInfoRequest__Output {
}
