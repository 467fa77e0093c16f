/**
 * The coordinator's gRPC server: every Coordinator RPC over FarmService, FarmStore and LogSource.
 */
import type { Logger } from '@farm/common';
import type { FarmStore } from '../../ports/farm-store.js';
import type { LogSource } from '../../ports/log-source.js';
import type { FarmService } from '../../service/farm-service.js';

export interface GrpcServerDeps {
  readonly service: FarmService;
  readonly store: FarmStore;
  readonly logs: LogSource;
  readonly logger: Logger;
}

export interface RunningGrpcServer {
  /** `host:port` actually bound (the port is picked when `listen` asks for 0). */
  readonly address: string;
  close(): Promise<void>;
}

export async function startGrpcServer(_deps: GrpcServerDeps, _listen: string): Promise<RunningGrpcServer> {
  throw new Error('not implemented yet');
}
