/**
 * What the web UI shows of a repository's content: its tags with their sizes and platforms, and
 * one manifest in detail (kind, platforms of an index, an image's config, layers and history,
 * referrers, tags, total size). It reads what this registry stores (the local services, never a
 * mirror's upstream); sorting and paging happen in the meta store, and config blobs, which mean
 * reading storage, are read for the page's images only, under a size cap. A manifest stored before
 * today's checks (nested too deep, say) is shown by its record alone: nothing here parses what
 * parseManifest refuses, so nothing downstream serialises a value it cannot bound.
 */
import { LRUCache } from 'lru-cache';
import type { ManifestRecord, MetaStore, TagQuery } from '../meta/store.ts';
import type { BlobStore } from './blobs.ts';
import type { ManifestStore } from './manifests.ts';
import { readAtMost } from './body.ts';
import { digestOf } from './digest.ts';
import { BlobUnknownError, ManifestInvalidError, NameUnknownError } from './errors.ts';
import {
  IMAGE_CONFIG_TYPES,
  isRunnablePlatform,
  parseImageConfig,
  type HistoryEntry,
  type ImageConfig,
  type ImageConfigSummary,
  type PlatformSummary,
} from './image-config.ts';
import { parseManifest, type Descriptor, type ParsedManifest, type Platform } from './manifest-parse.ts';
import { INDEX_TYPES } from './media-types.ts';
import { parseDigest } from './reference.ts';

/** The largest config blob read: configs are small, and anything larger is not shown. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export type ManifestKind = 'index' | 'image' | 'artifact';

export interface TagDetail {
  name: string;
  manifest: ManifestRecord;
  /** The manifest, its config and layers, and for an index its children's, each distinct blob once. */
  size: number;
  platforms: PlatformSummary[];
  pushedAt: number;
}

export interface TagDetailPage {
  total: number;
  tags: TagDetail[];
}

export interface IndexEntry {
  digest: string;
  mediaType: string;
  size: number;
  platform: Platform;
}

export interface ConfigDetail extends ImageConfigSummary {
  digest: string;
  mediaType: string;
  size: number;
}

export interface ManifestDetail {
  repository: string;
  reference: string;
  record: ManifestRecord;
  kind: ManifestKind;
  /**
   * The manifest's JSON text as stored, when it passes today's checks (so its nesting is bounded);
   * null for one stored before them, which is described by its record only.
   */
  manifest: string | null;
  totalSize: number;
  tags: string[];
  /** An index's entries, attestations (`unknown/unknown`) left out. */
  platforms?: IndexEntry[];
  /** An image's config, when its blob is here and readable. */
  config?: ConfigDetail;
  layers?: Descriptor[];
  history?: HistoryEntry[];
  referrers: ManifestRecord[];
}

export interface InspectorSources {
  manifests: Pick<ManifestStore, 'get'>;
  blobs: Pick<BlobStore, 'stat' | 'open'>;
  meta: Pick<MetaStore, 'queryTags' | 'tagsOf' | 'totalSize' | 'listReferrers'>;
}

/** An image when its config is an image config and no other artifactType was declared; else an artifact. */
export function manifestKind(parsed: ParsedManifest): ManifestKind {
  if (parsed.kind === 'index') return 'index';
  const config = parsed.config?.mediaType ?? '';
  return IMAGE_CONFIG_TYPES.has(config) && parsed.artifactType === config ? 'image' : 'artifact';
}

/** The kind of a manifest told from its record alone (one that cannot be parsed). */
function recordKind(record: ManifestRecord): ManifestKind {
  if (INDEX_TYPES.has(record.mediaType)) return 'index';
  return IMAGE_CONFIG_TYPES.has(record.artifactType ?? '') ? 'image' : 'artifact';
}

/** A stored manifest parsed, or undefined when today's checks refuse it (stored by an older registry). */
function parseStored(content: Buffer, mediaType: string): ParsedManifest | undefined {
  try {
    return parseManifest(content, mediaType);
  } catch (err) {
    if (err instanceof ManifestInvalidError) return undefined;
    throw err;
  }
}

function platformSummary(p: Platform): PlatformSummary {
  return { os: p.os, architecture: p.architecture, ...(p.variant !== undefined && { variant: p.variant }) };
}

function indexEntries(parsed: ParsedManifest): IndexEntry[] {
  return parsed.children.flatMap((c) =>
    c.platform !== undefined && isRunnablePlatform(c.platform) ? [{ digest: c.digest, mediaType: c.mediaType, size: c.size, platform: c.platform }] : [],
  );
}

export class ManifestInspector {
  /** Platforms of image configs by digest (content-addressed, so never stale): tag pages read no blob twice. */
  private readonly platforms = new LRUCache<string, PlatformSummary | 'none'>({ max: 10_000 });

  constructor(private readonly sources: InspectorSources) {}

  /** A page of a repository's tags; NameUnknownError when it holds no manifest. */
  async tags(repo: string, query: TagQuery): Promise<TagDetailPage> {
    const page = await this.sources.meta.queryTags(repo, query);
    if (page === undefined) throw new NameUnknownError(repo);
    const tags = await Promise.all(
      page.tags.map(async (t) => ({
        name: t.tag,
        manifest: t.manifest,
        size: t.totalSize,
        platforms: await this.platformsOf(repo, t.manifest.digest),
        pushedAt: t.pushedAt,
      })),
    );
    return { total: page.total, tags };
  }

  /** A manifest by tag or digest, in detail; ManifestUnknownError when there is none. */
  async detail(repo: string, reference: string): Promise<ManifestDetail> {
    const { record, content } = await this.sources.manifests.get(repo, reference);
    const parsed = parseStored(content, record.mediaType);
    const kind = parsed === undefined ? recordKind(record) : manifestKind(parsed);
    const { meta } = this.sources;
    const [totalSize, tags, referrers] = await Promise.all([
      meta.totalSize(repo, record.digest),
      meta.tagsOf(repo, record.digest),
      meta.listReferrers(repo, record.digest),
    ]);
    const manifest = parsed === undefined ? null : content.toString('utf8');
    const detail: ManifestDetail = { repository: repo, reference, record, kind, manifest, totalSize, tags, referrers };
    if (parsed === undefined) return detail;
    if (kind === 'index') return { ...detail, platforms: indexEntries(parsed) };
    detail.layers = parsed.layers;
    if (kind === 'artifact' || parsed.config === null) return detail;
    const config = await this.readConfig(repo, parsed.config);
    if (config === undefined) return detail;
    const { digest, mediaType, size } = parsed.config;
    return { ...detail, config: { digest, mediaType, size, ...config.summary }, history: config.history };
  }

  /** An index's platforms, or an image's from its config; none for an artifact. */
  private async platformsOf(repo: string, digest: string): Promise<PlatformSummary[]> {
    const { record, content } = await this.sources.manifests.get(repo, digest);
    const parsed = parseStored(content, record.mediaType);
    if (parsed === undefined) return [];
    const kind = manifestKind(parsed);
    if (kind === 'index') return indexEntries(parsed).map((e) => platformSummary(e.platform));
    if (kind === 'artifact' || parsed.config === null) return [];
    const key = parsed.config.digest;
    let platform = this.platforms.get(key);
    if (platform === undefined) {
      const config = await this.readConfig(repo, parsed.config);
      // A config not here (yet: a mirror fetches on pull) is asked for again next time.
      if (config === undefined) return [];
      platform = config.platform ?? 'none';
      this.platforms.set(key, platform);
    }
    return platform === 'none' ? [] : [platform];
  }

  /** An image config blob, parsed; undefined when it is not here, too large, or not a JSON object. */
  private async readConfig(repo: string, descriptor: Descriptor): Promise<ImageConfig | undefined> {
    if (!IMAGE_CONFIG_TYPES.has(descriptor.mediaType) || descriptor.size > MAX_CONFIG_BYTES) return undefined;
    try {
      const blob = await this.sources.blobs.stat(repo, descriptor.digest);
      if (blob.size > MAX_CONFIG_BYTES) return undefined;
      const { stream } = await this.sources.blobs.open(blob);
      const content = await readAtMost(stream, MAX_CONFIG_BYTES).finally(() => stream.destroy());
      if (content === undefined || digestOf(content, parseDigest(descriptor.digest).algorithm) !== descriptor.digest) return undefined;
      return parseImageConfig(content);
    } catch (err) {
      if (err instanceof BlobUnknownError) return undefined;
      throw err;
    }
  }
}
