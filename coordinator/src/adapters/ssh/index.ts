export { startSshGateway, type SshGatewayOptions, type SshGatewayDeps, type RunningSshGateway } from './ssh-gateway.js';
export { grantFor, type KeySettings, type KeyGrant } from './key-principal.js';
export { parseAuthorizedKeys, parseAuthorizedKeyLine, sshFingerprint, type AuthorizedKey, type AuthorizedKeys, type AuthorizedKeysWarning } from './authorized-keys.js';
export { parseKeyOptions, type KeyOptions } from './key-options.js';
export { SHELL_REFUSAL, EXIT_UNKNOWN_COMMAND } from './session-channel.js';
