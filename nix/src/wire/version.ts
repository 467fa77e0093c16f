/**
 * Protocol versions are `major << 8 | minor` in both protocols (serve 2.7 = 0x207, worker
 * 1.34 = 0x122). Every feature gate compares the minor of the *negotiated* version, which is
 * min(client, server) (spec §6.2, §7.2): gating on only one side's version corrupts the stream
 * when the two differ.
 */
export function protocolVersion(major: number, minor: number): number {
  return ((major & 0xff) << 8) | (minor & 0xff);
}

export function protocolMajor(version: number): number {
  return (version >> 8) & 0xff;
}

export function protocolMinor(version: number): number {
  return version & 0xff;
}

export function negotiateVersion(client: number, server: number): number {
  return Math.min(client, server);
}

/** "1.34" for 0x122. */
export function formatProtocolVersion(version: number): string {
  return `${protocolMajor(version)}.${protocolMinor(version)}`;
}
