/**
 * The metadata phase of `berth import`: a repository's layer links, manifests and tags recorded
 * through the MetaStore interface (any backend), once their bytes are in berth's storage, with the
 * fields the registry's ManifestService records on a push (registry/manifests.ts): media type,
 * artifactType and subject as manifest-parse.ts reads them, annotations, size, the blobs and child
 * manifests referenced. createdAt is when the source recorded the push (its revision link's
 * modification time), not the time of the import.
 *
 * The checks of a push hold: a manifest is recorded only once every blob it references is linked
 * to the repository with the size its descriptor gives, and an index only once every child is
 * recorded; a tag only once its manifest is. What is recorded already is left alone (a second run
 * writes nothing); a tag berth points elsewhere is kept unless `overwriteTags`.
 */
import type { MetaStore, NewManifest } from '../../meta/store.ts';
import { digestOf } from '../../registry/digest.ts';
import { MANIFEST_SIZE_LIMIT } from '../../registry/manifests.ts';
import { parseManifest, type ParsedManifest } from '../../registry/manifest-parse.ts';
import { PathNotFoundError, type StorageDriver } from '../../storage/driver.ts';
import { blobDataPath } from '../../storage/paths.ts';
import { ImportRefusedError, type Registry2Root, type Skip, type SourceRepository } from './source.ts';

export interface Counts {
  found: number;
  imported: number;
  /** Already in berth as in the source. */
  present: number;
  skipped: number;
}

export interface RecordCounts {
  repositories: Counts;
  tags: Counts;
  manifests: Counts;
  /** `_layers` links, which become the repository's blob links. */
  layerLinks: Counts;
}

export function emptyRecordCounts(): RecordCounts {
  const zero = (): Counts => ({ found: 0, imported: 0, present: 0, skipped: 0 });
  return { repositories: zero(), tags: zero(), manifests: zero(), layerLinks: zero() };
}

/** A manifest read from berth's storage (or, in a dry run, the source), checked and parsed (its bytes not kept); or why not. */
export type ReadManifest = { size: number; parsed: ParsedManifest } | { reason: string };

/** The schemaVersion a JSON document declares, if it is one (schema1 manifests carry no mediaType). */
function schemaVersionOf(content: Buffer): unknown {
  try {
    const doc: unknown = JSON.parse(content.toString('utf8'));
    return typeof doc === 'object' && doc !== null ? (doc as { schemaVersion?: unknown }).schemaVersion : undefined;
  } catch {
    return undefined;
  }
}

/** Read and parse a manifest whose blob was imported (its bytes verified against the digest again). */
export async function readManifest(driver: StorageDriver, source: Registry2Root, digest: string, size: number): Promise<ReadManifest> {
  if (size > MANIFEST_SIZE_LIMIT) return { reason: `larger than ${MANIFEST_SIZE_LIMIT} bytes: not a manifest berth accepts` };
  const hex = digest.slice('sha256:'.length);
  let content: Buffer | undefined;
  try {
    content = await driver.getContent(blobDataPath('sha256', hex));
  } catch (err) {
    if (!(err instanceof PathNotFoundError)) throw err;
    try {
      content = await source.readBlob(hex, MANIFEST_SIZE_LIMIT); // a dry run: not in berth's storage yet
    } catch (refused) {
      if (refused instanceof ImportRefusedError) return { reason: refused.message };
      throw refused;
    }
  }
  if (content === undefined) return { reason: 'its bytes are missing' };
  if (digestOf(content) !== digest) return { reason: 'its bytes do not match its digest' };
  try {
    return { size: content.length, parsed: parseManifest(content, undefined) };
  } catch (err) {
    if (schemaVersionOf(content) === 1) {
      return { reason: 'a Docker schema1 manifest, which berth does not serve: push it again as schema2 (skopeo copy --format v2s2)' };
    }
    return { reason: `not importable: ${(err as Error).message}` };
  }
}

export interface RepositoryImport {
  meta: MetaStore;
  repo: SourceRepository;
  /** Sizes of the blobs berth holds (or would), by digest. */
  blobs: ReadonlyMap<string, number>;
  /** Parsed manifests by digest (shared by every repository). */
  manifests: ReadonlyMap<string, ReadManifest>;
  dryRun: boolean;
  overwriteTags: boolean;
  counts: RecordCounts;
  skips: Skip[];
}

function count(c: Counts, outcome: 'imported' | 'present' | 'skipped'): void {
  c.found++;
  c[outcome]++;
}

/** Link a blob to the repository unless it is; true when it was new. */
async function ensureLinked(ctx: RepositoryImport, digest: string, size: number): Promise<boolean> {
  if ((await ctx.meta.getRepositoryBlob(ctx.repo.name, digest)) !== undefined) return false;
  if (!ctx.dryRun) await ctx.meta.linkBlob(ctx.repo.name, { digest, size });
  return true;
}

/** Why the manifest cannot be recorded yet (its blobs), or undefined when it can. */
function blobProblem(ctx: RepositoryImport, parsed: ParsedManifest): string | undefined {
  for (const b of parsed.blobs) {
    const size = ctx.blobs.get(b.digest);
    if (size === undefined) return `references blob ${b.digest}, which is missing or corrupt in the source`;
    if (size !== b.size) return `its descriptor gives blob ${b.digest} ${b.size} bytes, the blob has ${size}`;
  }
  return undefined;
}

/** Record one repository; returns whether anything new was (or, in a dry run, would be) written. */
export async function importRepository(ctx: RepositoryImport): Promise<boolean> {
  const { meta, repo, counts } = ctx;
  const name = repo.name;
  let changed = false;
  const skip = (kind: Skip['kind'], what: string, reason: string): void => void ctx.skips.push({ kind, name: what, reason });

  for (const digest of repo.layers) {
    const size = ctx.blobs.get(digest);
    if (size === undefined) count(counts.layerLinks, 'skipped'); // the blob's own skip says why
    else if (await ensureLinked(ctx, digest, size)) {
      count(counts.layerLinks, 'imported');
      changed = true;
    } else count(counts.layerLinks, 'present');
  }

  // Images before the indexes that list them, indexes before the indexes that list those.
  const records = new Map<string, NewManifest>();
  const taggedAlong = new Set<string>();
  let pending = repo.revisions.filter((r) => {
    const read = ctx.manifests.get(r.digest);
    if (read !== undefined && 'parsed' in read) return true;
    count(counts.manifests, 'skipped');
    skip('manifest', `${name}@${r.digest}`, read === undefined ? 'its blob could not be imported' : read.reason);
    return false;
  });
  for (let progress = true; pending.length > 0 && progress; ) {
    progress = false;
    const waiting: typeof pending = [];
    for (const revision of pending) {
      const { parsed, size } = ctx.manifests.get(revision.digest) as { size: number; parsed: ParsedManifest };
      if (parsed.children.some((c) => !records.has(c.digest))) {
        waiting.push(revision);
        continue;
      }
      progress = true;
      const problem = blobProblem(ctx, parsed);
      if (problem !== undefined) {
        count(counts.manifests, 'skipped');
        skip('manifest', `${name}@${revision.digest}`, problem);
        continue;
      }
      for (const b of parsed.blobs) changed = (await ensureLinked(ctx, b.digest, ctx.blobs.get(b.digest) as number)) || changed;
      const record: NewManifest = {
        digest: revision.digest,
        mediaType: parsed.mediaType,
        size,
        artifactType: parsed.artifactType,
        subject: parsed.subject?.digest ?? null,
        annotations: parsed.annotations,
        createdAt: revision.pushedAt,
        blobs: parsed.blobs.map((b) => b.digest),
        children: parsed.children.map((c) => c.digest),
      };
      records.set(revision.digest, record);
      if ((await meta.getManifest(name, revision.digest)) !== undefined) {
        count(counts.manifests, 'present');
      } else {
        // a new manifest's first tag that berth lacks goes in the same transaction
        const tag = repo.tags.find((t) => t.digest === revision.digest)?.tag;
        const withTag = tag !== undefined && (await meta.resolveTag(name, tag)) === undefined ? tag : undefined;
        if (!ctx.dryRun) await meta.putManifest(name, record, withTag);
        if (withTag !== undefined) taggedAlong.add(withTag);
        count(counts.manifests, 'imported');
        changed = true;
      }
    }
    pending = waiting;
  }
  for (const revision of pending) {
    const read = ctx.manifests.get(revision.digest) as { parsed: ParsedManifest };
    const child = read.parsed.children.find((c) => !records.has(c.digest))?.digest ?? '';
    count(counts.manifests, 'skipped');
    skip('manifest', `${name}@${revision.digest}`, `lists manifest ${child}, which is not in the repository or was not imported`);
  }

  for (const { tag, digest } of repo.tags) {
    if (taggedAlong.has(tag)) {
      count(counts.tags, 'imported');
      continue;
    }
    const record = records.get(digest);
    if (record === undefined) {
      count(counts.tags, 'skipped');
      const known = repo.revisions.some((r) => r.digest === digest);
      skip('tag', `${name}:${tag}`, `points at ${digest}, which ${known ? 'was not imported' : 'is not a manifest of the repository (deleted in the source?)'}`);
      continue;
    }
    const current = await meta.resolveTag(name, tag);
    if (current?.digest === digest) {
      count(counts.tags, 'present');
    } else if (current !== undefined && !ctx.overwriteTags) {
      count(counts.tags, 'skipped');
      skip('tag', `${name}:${tag}`, `berth's points at ${current.digest}, the source's at ${digest}: kept berth's (--overwrite-tags moves it)`);
    } else {
      if (!ctx.dryRun) await meta.putManifest(name, record, tag);
      count(counts.tags, 'imported');
      changed = true;
    }
  }
  count(counts.repositories, changed ? 'imported' : 'present');
  return changed;
}
