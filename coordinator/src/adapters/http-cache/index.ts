export { loadOrCreateCacheKey, cacheKeyOf, type CacheKey } from './cache-key.js';
export { CACHE_COMPRESSIONS, DEFAULT_CACHE_COMPRESSION, compressionMethod, type CacheCompression, type CompressionMethod } from './compression.js';
export { startHttpCache, DEFAULT_CACHE_PRIORITY, type HttpCacheDeps, type HttpCacheOptions, type RunningHttpCache } from './http-cache.js';
export { narListing } from './nar-listing.js';
export { narInfoText } from './narinfo-text.js';
export { routeOf, type CacheRoute } from './routes.js';
