/**
 * An LRU of values per repository (resolved manifests, blob links) that another node's change
 * can invalidate a repository at a time. Each repository has a generation; entries are keyed
 * under it, so invalidating is one counter bump (old entries become unreachable and age out), and
 * a read that started before an invalidation stores its answer under the old generation, where
 * nobody looks: a value read before a change is never served after the change is known.
 */
import { LRUCache } from 'lru-cache';

export class RepoCache<V extends object> {
  private readonly entries: LRUCache<string, V>;
  private readonly generations = new Map<string, number>();
  private epoch = 0;

  constructor(max: number, ttlMs: number) {
    this.entries = new LRUCache<string, V>({ max, ttl: ttlMs });
  }

  /** The token to store a value read from now on: pass it to set(). */
  generation(repo: string): string {
    return `${this.epoch}.${this.generations.get(repo) ?? 0}`;
  }

  get(repo: string, key: string): V | undefined {
    return this.entries.get(`${this.generation(repo)}\0${repo}\0${key}`);
  }

  set(repo: string, key: string, value: V, generation = this.generation(repo)): void {
    this.entries.set(`${generation}\0${repo}\0${key}`, value);
  }

  delete(repo: string, key: string): void {
    this.entries.delete(`${this.generation(repo)}\0${repo}\0${key}`);
  }

  /** Forget everything cached for a repository. */
  invalidate(repo: string): void {
    this.generations.set(repo, (this.generations.get(repo) ?? 0) + 1);
    // generations of repositories with nothing cached need not live for ever
    if (this.generations.size > 100_000) this.clear();
  }

  /** Forget everything. */
  clear(): void {
    this.epoch++;
    this.generations.clear();
    this.entries.clear();
  }
}
