/**
 * Platform filters (replication rules' `filters.platforms`): "os/architecture[/variant]" patterns,
 * and an index narrowed to the images of those platforms. The narrowed index keeps the source's
 * JSON as it is but for the entries left out, so the same source index always narrows to the same
 * bytes (and digest): a run can tell the destination has it already. Attestation manifests (an
 * `unknown/unknown` platform with a `vnd.docker.reference.digest` annotation) go with the image
 * they describe.
 */
import { createHash } from 'node:crypto';
import { INDEX_TYPES } from '../registry/media-types.ts';
import { CopyError, type ManifestBytes } from './transport.ts';

export interface PlatformPattern {
  os: string;
  architecture: string;
  /** None: any variant. */
  variant?: string;
}

/** `linux/amd64`, `linux/arm64/v8`, `windows/amd64`. */
export const PLATFORM_PATTERN = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;

export function parsePlatform(text: string): PlatformPattern {
  if (!PLATFORM_PATTERN.test(text)) throw new CopyError('BERTH_COPY_PLATFORM_INVALID', `${text}: a platform is os/architecture[/variant], e.g. linux/amd64`);
  const [os = '', architecture = '', variant] = text.split('/');
  return { os, architecture, ...(variant !== undefined && { variant }) };
}

interface Descriptor {
  digest?: unknown;
  platform?: { os?: unknown; architecture?: unknown; variant?: unknown };
  annotations?: Record<string, unknown>;
}

function matches(d: Descriptor, patterns: readonly PlatformPattern[]): boolean {
  const p = d.platform;
  return patterns.some((x) => p?.os === x.os && p.architecture === x.architecture && (x.variant === undefined || p.variant === x.variant));
}

/**
 * `top` narrowed to the images of `patterns` when it is an index: the same manifest when it keeps
 * every entry, undefined when it keeps none. An image manifest is returned as it is.
 */
export function narrowIndex(top: ManifestBytes, patterns: readonly PlatformPattern[]): ManifestBytes | undefined {
  if (!INDEX_TYPES.has(top.mediaType)) return top;
  const doc = JSON.parse(top.bytes.toString('utf8')) as { manifests?: Descriptor[] };
  const entries = doc.manifests ?? [];
  const kept = new Set(entries.filter((d) => matches(d, patterns)).map((d) => d.digest));
  if (kept.size === 0) return undefined;
  const narrowed = entries.filter((d) => kept.has(d.digest) || kept.has(d.annotations?.['vnd.docker.reference.digest']));
  if (narrowed.length === entries.length) return top;
  const bytes = Buffer.from(JSON.stringify({ ...doc, manifests: narrowed }));
  return { bytes, mediaType: top.mediaType, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}
