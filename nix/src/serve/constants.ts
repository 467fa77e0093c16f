/** Serve protocol constants (spec §6; serve-protocol.hh, export-import.cc). */
import { nameLookup } from '../wire/name-lookup.js';

export const SERVE_MAGIC_1 = 0x390c9deb;
export const SERVE_MAGIC_2 = 0x5452eecb;
/** Nix 2.8 … 2.24 all speak serve 2.7. */
export const SERVE_PROTOCOL_VERSION = 0x207;
/** "NIXE": ends the NAR of each path in an export stream. */
export const EXPORT_MAGIC = 0x4558494e;

export const ServeCommand = {
  QueryValidPaths: 1,
  QueryPathInfos: 2,
  DumpStorePath: 3,
  ImportPaths: 4,
  ExportPaths: 5,
  BuildPaths: 6,
  QueryClosure: 7,
  BuildDerivation: 8,
  AddToStoreNar: 9,
} as const;
export type ServeCommandName = keyof typeof ServeCommand;

export const serveCommandName: (cmd: number) => ServeCommandName | undefined = nameLookup(ServeCommand);

/** Commands refused by a server started without --write. */
export const SERVE_WRITE_COMMANDS: ReadonlySet<ServeCommandName> = new Set(['ImportPaths', 'BuildPaths', 'BuildDerivation', 'AddToStoreNar']);
