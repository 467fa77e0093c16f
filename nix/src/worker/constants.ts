/** Worker protocol constants (spec §7; worker-protocol.hh, logging.hh). */
import { nameLookup } from '../wire/name-lookup.js';
export const WORKER_MAGIC_1 = 0x6e697863; // "cxin"
export const WORKER_MAGIC_2 = 0x6478696f; // "oixd"
/** 1.34: what Nix 2.8 … 2.14 speak, and every layout this module was checked against. */
export const WORKER_PROTOCOL_VERSION = 0x122;
/** Oldest client version a 2.8 daemon accepts. */
export const MIN_WORKER_CLIENT_VERSION = 0x10a;

export const WorkerOp = {
  IsValidPath: 1,
  AddToStore: 7,
  AddTextToStore: 8,
  BuildPaths: 9,
  EnsurePath: 10,
  AddTempRoot: 11,
  SetOptions: 19,
  QueryPathInfo: 26,
  QueryPathFromHashPart: 29,
  QueryValidPaths: 31,
  BuildDerivation: 36,
  AddSignatures: 37,
  NarFromPath: 38,
  AddToStoreNar: 39,
  QueryMissing: 40,
  QueryDerivationOutputMap: 41,
  RegisterDrvOutput: 42,
  QueryRealisation: 43,
  AddMultipleToStore: 44,
  AddBuildLog: 45,
  BuildPathsWithResults: 46,
  AddPermRoot: 47,
} as const;
export type WorkerOpName = keyof typeof WorkerOp;

export const workerOpName: (op: number) => WorkerOpName | undefined = nameLookup(WorkerOp);

export const StderrCode = {
  Next: 0x6f6c6d67,
  Read: 0x64617461,
  Write: 0x64617416,
  Last: 0x616c7473,
  Error: 0x63787470,
  StartActivity: 0x53545254,
  StopActivity: 0x53544f50,
  Result: 0x52534c54,
} as const;

export const Verbosity = { Error: 0, Warn: 1, Notice: 2, Info: 3, Talkative: 4, Chatty: 5, Debug: 6, Vomit: 7 } as const;

export const ActivityType = {
  Unknown: 0,
  CopyPath: 100,
  FileTransfer: 101,
  Realise: 102,
  CopyPaths: 103,
  Builds: 104,
  Build: 105,
  OptimiseStore: 106,
  VerifyPaths: 107,
  Substitute: 108,
  QueryPathInfo: 109,
  PostBuildHook: 110,
  BuildWaiting: 111,
} as const;

export const ResultType = {
  FileLinked: 100,
  BuildLogLine: 101,
  UntrustedPath: 102,
  CorruptedPath: 103,
  SetPhase: 104,
  Progress: 105,
  SetExpected: 106,
  PostBuildLogLine: 107,
} as const;

/** Handshake trust answer (≥ 1.35). */
export const TrustLevel = { Unknown: 0, Trusted: 1, NotTrusted: 2 } as const;

export const BuildMode = { Normal: 0, Repair: 1, Check: 2 } as const;
