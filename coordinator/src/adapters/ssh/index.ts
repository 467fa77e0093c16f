export { grantFor, type KeySettings, type KeyGrant } from './key-principal.js';
export { parseAuthorizedKeys, parseAuthorizedKeyLine, sshFingerprint, type AuthorizedKey, type AuthorizedKeys, type AuthorizedKeysWarning } from './authorized-keys.js';
export { parseKeyOptions, type KeyOptions } from './key-options.js';
