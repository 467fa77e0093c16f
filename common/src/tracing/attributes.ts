/**
 * Span attribute names. OpenTelemetry's semantic conventions where one exists (rpc.*,
 * messaging.*, error.type), `farm.*` for what only the farm has. Plain constants rather than
 * @opentelemetry/semantic-conventions: packages depend on @opentelemetry/api alone, and these
 * few names are stable in the conventions.
 */
export const ATTR = {
  // farm.*
  drvPath: 'farm.drv_path',
  jobId: 'farm.job_id',
  submissionId: 'farm.submission_id',
  system: 'farm.system',
  agent: 'farm.agent',
  epoch: 'farm.epoch',
  bytes: 'farm.bytes',
  paths: 'farm.paths',
  outcome: 'farm.outcome',
  client: 'farm.client',
  jobs: 'farm.jobs',
  // semantic conventions
  rpcSystem: 'rpc.system',
  rpcService: 'rpc.service',
  rpcMethod: 'rpc.method',
  rpcGrpcStatusCode: 'rpc.grpc.status_code',
  messagingSystem: 'messaging.system',
  messagingDestination: 'messaging.destination.name',
  messagingOperation: 'messaging.operation.type',
  errorType: 'error.type',
} as const;

/** The fully qualified gRPC service of the farm (rpc.service). */
export const FARM_GRPC_SERVICE = 'farm.v1.Coordinator';
