export { LogPublisher, LOG_CHUNK_MAX_BYTES, LOG_FLUSH_MS, type JsPublish, type LogPublisherOptions } from './log-publisher.js';
