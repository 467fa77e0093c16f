export { NarTransfer, MAX_NAR_CHUNK, type NarFetcher, type UploadRequest } from './nar-transfer.js';
