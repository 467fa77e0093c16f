// Original file: farm/v1/coordinator.proto


export interface CancelResponse {
  /**
   * drv paths stopped or dequeued
   */
  'cancelled'?: (string)[];
  /**
   * drv path → why (another live submission needs it)
   */
  'leftRunning'?: ({[key: string]: string});
}

export interface CancelResponse__Output {
  /**
   * drv paths stopped or dequeued
   */
  'cancelled': (string)[];
  /**
   * drv path → why (another live submission needs it)
   */
  'leftRunning': ({[key: string]: string});
}
