// Original file: farm/v1/coordinator.proto


export interface NixSessionOpen {
  /**
   * "serve" (nix-store --serve), "serve-write" (nix-store --serve --write) or "worker" (nix-daemon --stdio).
   */
  'mode'?: (string);
  /**
   * who (user@host), for display and per-client limits
   */
  'client'?: (string);
}

export interface NixSessionOpen__Output {
  /**
   * "serve" (nix-store --serve), "serve-write" (nix-store --serve --write) or "worker" (nix-daemon --stdio).
   */
  'mode': (string);
  /**
   * who (user@host), for display and per-client limits
   */
  'client': (string);
}
