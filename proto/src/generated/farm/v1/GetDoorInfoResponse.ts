// Original file: farm/v1/coordinator.proto


export interface GetDoorInfoResponse {
  /**
   * the HTTP binary cache ("" when off)
   */
  'cacheUrl'?: (string);
  /**
   * for trusted-public-keys: "<name>:<base64>"
   */
  'cachePublicKey'?: (string);
  /**
   * host:port of the SSH endpoint ("" when off)
   */
  'sshAddress'?: (string);
  /**
   * its host key, an OpenSSH public key line
   */
  'sshHostKey'?: (string);
}

export interface GetDoorInfoResponse__Output {
  /**
   * the HTTP binary cache ("" when off)
   */
  'cacheUrl': (string);
  /**
   * for trusted-public-keys: "<name>:<base64>"
   */
  'cachePublicKey': (string);
  /**
   * host:port of the SSH endpoint ("" when off)
   */
  'sshAddress': (string);
  /**
   * its host key, an OpenSSH public key line
   */
  'sshHostKey': (string);
}
