/**
 * An LRU of values per repository (resolved manifests, blob links) that another node's change
 * can invalidate a repository at a time. Each repository has a generation, and every entry the
 * generation it was read in: invalidating is one counter bump (old entries no longer match and age
 * out), and a read that started before an invalidation is not stored at all: a value read before
 * a change is never served after the change is known. A lookup (the hot manifest GET, blob HEAD)
 * builds one key string and compares two numbers.
 */
import { LRUCache } from 'lru-cache';

/** A repository's generation when a read began (generation()), to hand to set(). */
export type Generation = number;

interface Entry<V> {
  value: V;
  generation: Generation;
}

export class RepoCache<V extends object> {
  private readonly entries: LRUCache<string, Entry<V>>;
  /** Repositories invalidated since the last clear(), with their generation; the others have `base`. */
  private readonly generations = new Map<string, Generation>();
  private counter = 0;
  private base = 0;

  constructor(max: number, ttlMs: number) {
    this.entries = new LRUCache<string, Entry<V>>({ max, ttl: ttlMs });
  }

  /** The token to store a value read from now on: pass it to set(). */
  generation(repo: string): Generation {
    return this.generations.get(repo) ?? this.base;
  }

  get(repo: string, key: string): V | undefined {
    const entry = this.entries.get(`${repo}\0${key}`);
    return entry !== undefined && entry.generation === this.generation(repo) ? entry.value : undefined;
  }

  /** Store a value read in `generation`; nothing if the repository was invalidated since. */
  set(repo: string, key: string, value: V, generation = this.generation(repo)): void {
    if (generation !== this.generation(repo)) return;
    this.entries.set(`${repo}\0${key}`, { value, generation });
  }

  delete(repo: string, key: string): void {
    this.entries.delete(`${repo}\0${key}`);
  }

  /** Forget everything cached for a repository. */
  invalidate(repo: string): void {
    // generations of repositories with nothing cached need not live for ever
    if (this.generations.size >= 100_000) this.clear();
    this.generations.set(repo, ++this.counter);
  }

  /** Forget everything. */
  clear(): void {
    this.base = ++this.counter;
    this.generations.clear();
    this.entries.clear();
  }
}
