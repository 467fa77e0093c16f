/**
 * Promise wrappers over the coordinator's gRPC API for end-to-end assertions: tests check the
 * coordinator's own records (builds, job states), not just what the CLI printed.
 */
import { createHash } from 'node:crypto';
import { createCoordinatorClient, type BuildRecord__Output, type CoordinatorClient, type StatusResponse__Output } from '@farm/proto';

export class FarmClient {
  private readonly client: CoordinatorClient;
  constructor(address: string) {
    this.client = createCoordinatorClient(address);
  }

  close(): void {
    this.client.close();
  }

  builds(drvPath = ''): Promise<BuildRecord__Output[]> {
    return new Promise((resolve, reject) => this.client.ListBuilds({ drvPath }, (e, r) => (e || !r ? reject(e ?? new Error('no reply')) : resolve(r.builds))));
  }

  status(submissionId = ''): Promise<StatusResponse__Output> {
    return new Promise((resolve, reject) => this.client.Status({ submissionId }, (e, r) => (e || !r ? reject(e ?? new Error('no reply')) : resolve(r))));
  }

  missing(paths: readonly string[]): Promise<string[]> {
    return new Promise((resolve, reject) => this.client.QueryMissing({ paths: [...paths] }, (e, r) => (e || !r ? reject(e ?? new Error('no reply')) : resolve(r.missing))));
  }

  /** The NAR the farm store serves for `path`. */
  nar(path: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const call = this.client.GetNar({ path });
      call.on('data', (chunk: { data: Buffer }) => chunks.push(chunk.data));
      call.on('error', reject);
      call.on('end', () => resolve(Buffer.concat(chunks)));
    });
  }

  /** sha256 of the NAR the farm store serves for `path`, as Nix prints it (`sha256:<base16>` is not used: hex here). */
  narSha256Hex(path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const hash = createHash('sha256');
      const call = this.client.GetNar({ path });
      call.on('data', (chunk: { data: Buffer }) => hash.update(chunk.data));
      call.on('error', reject);
      call.on('end', () => resolve(hash.digest('hex')));
    });
  }
}
