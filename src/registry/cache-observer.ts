/** A callback told of each lookup in the registry's in-process caches: which cache, and whether it hit. */
export type CacheObserver = (cache: 'manifest-bytes' | 'manifest-records' | 'blob-links', hit: boolean) => void;
