export { cacheAttributes } from './attributes.ts';
export { segmentsFor, type CacheTtl, type PrefixSegment, type Provider } from './segments.ts';
export {
  CacheTracker,
  type CacheClassification,
  type CacheState,
  type CacheTrackerOptions,
  type CacheUsage,
  type ClassifyInput,
  type MissReason,
  type RequestedTtl,
} from './tracker.ts';
