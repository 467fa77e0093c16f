// Original file: farm/v1/common.proto


/**
 * Errors cross gRPC as a status plus this detail; `code` is the farm's stable error code
 * (common/src/errors.ts), so clients branch on it instead of parsing messages.
 */
export interface ErrorDetail {
  'code'?: (string);
  'message'?: (string);
  'fields'?: ({[key: string]: string});
}

/**
 * Errors cross gRPC as a status plus this detail; `code` is the farm's stable error code
 * (common/src/errors.ts), so clients branch on it instead of parsing messages.
 */
export interface ErrorDetail__Output {
  'code': (string);
  'message': (string);
  'fields': ({[key: string]: string});
}
