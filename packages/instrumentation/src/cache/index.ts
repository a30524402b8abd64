export { cacheAttributes } from './attributes.ts';
export { cacheScopeOf } from './scope.ts';
export { lazySegments, snapshotRequest } from './snapshot.ts';
export { prefixSegment, type CacheTtl, type Marker, type PrefixSegment } from './segments.ts';
export {
  CacheTracker,
  type CacheClassification,
  type CacheModel,
  type CacheState,
  type CacheTrackerOptions,
  type CacheUsage,
  type ClassifyInput,
  type MissReason,
  type RequestedTtl,
} from './tracker.ts';
