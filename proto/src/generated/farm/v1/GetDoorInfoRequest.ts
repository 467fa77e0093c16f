// Original file: farm/v1/coordinator.proto


export interface GetDoorInfoRequest {
}

export interface GetDoorInfoRequest__Output {
}
