/**
 * The two ends of a replication rule, alike: berth itself (its registry domain, no HTTP) and the
 * remote registry (the copy engine's HTTP client). A pull rule copies remote -> local, a push rule
 * local -> remote, with the same code (run.ts).
 */
import type { ManifestStore } from '../registry/manifests.ts';
import { ManifestUnknownError, NameUnknownError } from '../registry/errors.ts';
import { LocalDestination, LocalSource } from '../copy/local-transport.ts';
import type { RegistryClient } from '../copy/registry-client.ts';
import { RegistryDestination, RegistrySource } from '../copy/registry-transport.ts';
import { CopyError, type ImageDestination, type ImageSource, type ManifestBytes } from '../copy/transport.ts';
import { INDEX_TYPES } from '../registry/media-types.ts';
import type { Registry } from '../registry/registry.ts';
import { causedBy } from '../events/emitting-stores.ts';
import { systemCause, SYSTEM_ACTORS } from '../events/context.ts';

/** One end, in its own repository names. */
export interface Side {
  readonly description: string;
  /** Every repository (a catalog); may be refused by a remote (Docker Hub): then only named ones replicate. */
  repositories(): Promise<string[]>;
  tags(repository: string): Promise<string[]>;
  /** The digest a tag points to, or undefined when there is no such tag. */
  digest(repository: string, tag: string): Promise<string | undefined>;
  source(repository: string, tag: string): Promise<ImageSource>;
  destination(repository: string): Promise<ImageDestination>;
  /** Remove a tag (not what it points to, where the other end can tell them apart). */
  deleteTag(repository: string, tag: string): Promise<void>;
  close(): Promise<void>;
}

const PAGE = 1000;

/** berth itself, through the stores it serves (events, quotas and immutable tags apply). */
export class LocalSide implements Side {
  readonly description = 'berth';

  /** The served manifests, their changes caused by replication (events name berth-replication). */
  private readonly manifests: ManifestStore;

  constructor(private readonly registry: Registry) {
    this.manifests = causedBy(registry.manifests, systemCause(SYSTEM_ACTORS.replication));
  }

  async repositories(): Promise<string[]> {
    const all: string[] = [];
    for (let page = await this.manifests.catalog({ n: PAGE }); page.length > 0; page = await this.manifests.catalog({ n: PAGE, last: page.at(-1) ?? '' })) {
      all.push(...page);
      if (page.length < PAGE) break;
    }
    return all;
  }

  async tags(repository: string): Promise<string[]> {
    const all: string[] = [];
    try {
      for (let page = await this.manifests.tags(repository, { n: PAGE }); page.length > 0; page = await this.manifests.tags(repository, { n: PAGE, last: page.at(-1) ?? '' })) {
        all.push(...page);
        if (page.length < PAGE) break;
      }
    } catch (err) {
      if (err instanceof NameUnknownError) return [];
      throw err;
    }
    return all;
  }

  async digest(repository: string, tag: string): Promise<string | undefined> {
    try {
      return (await this.manifests.stat(repository, tag)).digest;
    } catch (err) {
      if (err instanceof ManifestUnknownError || err instanceof NameUnknownError) return undefined;
      throw err;
    }
  }

  async source(repository: string, tag: string): Promise<ImageSource> {
    return new LocalSource(this.registry, repository, tag);
  }

  async destination(repository: string): Promise<ImageDestination> {
    return new LocalDestination(this.registry, repository);
  }

  async deleteTag(repository: string, tag: string): Promise<void> {
    await this.manifests.delete(repository, tag);
  }

  async close(): Promise<void> {}
}

/** The remote registry of a rule, one client (its tokens and connections) for the whole run. */
export class RemoteSide implements Side {
  readonly description: string;

  /** What each tag of a repository names, read once a run (deleteTag at digest-only remotes). */
  private readonly named = new Map<string, Promise<Map<string, { digest: string; holds: Set<string> }>>>();

  constructor(private readonly client: RegistryClient) {
    this.description = client.host;
  }

  repositories(): Promise<string[]> {
    return this.client.catalog(PAGE);
  }

  tags(repository: string): Promise<string[]> {
    return this.client.listTags(repository, PAGE);
  }

  async digest(repository: string, tag: string): Promise<string | undefined> {
    return (await this.client.headManifest(repository, tag))?.digest;
  }

  async source(repository: string, tag: string): Promise<ImageSource> {
    return new RegistrySource(this.client, { host: this.client.host, repository, tag });
  }

  async destination(repository: string): Promise<ImageDestination> {
    // No upload state across runs: a run that stops is run again whole, and the blobs it sent are there.
    return new RegistryDestination(this.client, { host: this.client.host, repository }, {});
  }

  /**
   * Delete the tag; at a registry that deletes manifests by digest only (distribution 2.x answers
   * a tag's DELETE with 400 or 405), its manifest by digest, which takes every tag of it along:
   * only when no other tag names the same manifest or an index holding it. What the repository's
   * tags name is read once a run (a HEAD a tag, a GET an index), not once a deleted tag.
   */
  async deleteTag(repository: string, tag: string): Promise<void> {
    try {
      await this.client.deleteManifest(repository, tag);
      return;
    } catch (err) {
      if (!(err instanceof CopyError) || (err.status !== 400 && err.status !== 405)) throw err;
    }
    const named = await this.namedBy(repository);
    const mine = named.get(tag);
    if (mine === undefined) return; // gone already
    for (const [other, theirs] of named) {
      if (other === tag) continue;
      if (theirs.digest === mine.digest) throw new Error(`${this.description} deletes by digest only, and ${repository}:${other} is the same image: ${tag} was left`);
      if (theirs.holds.has(mine.digest)) throw new Error(`${this.description} deletes by digest only, and the index ${repository}:${other} holds the image: ${tag} was left`);
    }
    await this.client.deleteManifest(repository, mine.digest);
    // every tag of that manifest went with it
    for (const [other, theirs] of named) if (theirs.digest === mine.digest) named.delete(other);
  }

  /** Each tag of the repository at the remote: its manifest's digest, and what it holds if an index. */
  private namedBy(repository: string): Promise<Map<string, { digest: string; holds: Set<string> }>> {
    let named = this.named.get(repository);
    if (named === undefined) {
      named = this.readNamed(repository);
      named.catch(() => this.named.delete(repository));
      this.named.set(repository, named);
    }
    return named;
  }

  private async readNamed(repository: string): Promise<Map<string, { digest: string; holds: Set<string> }>> {
    const out = new Map<string, { digest: string; holds: Set<string> }>();
    for (const tag of await this.tags(repository)) {
      const head = await this.client.headManifest(repository, tag);
      if (head === undefined) continue;
      if (head.digest !== undefined && head.mediaType !== undefined && !INDEX_TYPES.has(head.mediaType)) {
        out.set(tag, { digest: head.digest, holds: new Set() });
        continue;
      }
      // an index (or a registry that did not say): read it
      const manifest = await this.client.getManifest(repository, tag).catch((err: unknown) => {
        if (err instanceof CopyError && err.status === 404) return undefined;
        throw err;
      });
      if (manifest !== undefined) out.set(tag, { digest: manifest.digest, holds: INDEX_TYPES.has(manifest.mediaType) ? indexEntries(manifest) : new Set() });
    }
    return out;
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

/** The digests an index's entries name. */
function indexEntries(index: ManifestBytes): Set<string> {
  try {
    const doc = JSON.parse(index.bytes.toString('utf8')) as { manifests?: unknown };
    const entries = Array.isArray(doc.manifests) ? (doc.manifests as { digest?: unknown }[]) : [];
    return new Set(entries.map((m) => m?.digest).filter((d): d is string => typeof d === 'string'));
  } catch {
    return new Set();
  }
}
