/**
 * What configuration allows: deletes (storage.delete.enabled) and writes (maintenance read-only
 * mode), and the guards every push and delete passes whatever path makes it (HTTP, the management
 * API, the CLI): immutable tags (immutable.ts) and quotas (quota.ts).
 */
import type { BlobRecord } from '../meta/store.ts';
import { UnsupportedError } from './errors.ts';
import type { Reference } from './reference.ts';

/** A check a change must pass; each method throws a RegistryError to refuse it. */
export interface ContentGuard {
  /** Before a manifest (its digest and size in bytes) is recorded, under `tag` when pushed by tag. */
  manifestPut?(repo: string, manifest: BlobRecord, tag: string | undefined): Promise<void>;
  /** Before a tag is deleted, or a manifest with every tag pointing at it. */
  manifestDelete?(repo: string, ref: Reference): Promise<void>;
  /** Before a blob is linked to a repository: an upload's end, a cross-repository mount. */
  blobLink?(repo: string, blob: BlobRecord): Promise<void>;
}

export interface RegistryPolicyOptions {
  deleteEnabled: boolean;
  readOnly: boolean;
  guards?: readonly ContentGuard[];
}

export class RegistryPolicy {
  constructor(private readonly opts: RegistryPolicyOptions) {}

  assertWritable(): void {
    if (this.opts.readOnly) throw new UnsupportedError('the registry is in read-only mode');
  }

  assertDeletable(): void {
    this.assertWritable();
    if (!this.opts.deleteEnabled) throw new UnsupportedError('deletes are disabled on this registry');
  }

  async checkManifestPut(repo: string, manifest: BlobRecord, tag: string | undefined): Promise<void> {
    for (const guard of this.opts.guards ?? []) await guard.manifestPut?.(repo, manifest, tag);
  }

  async checkManifestDelete(repo: string, ref: Reference): Promise<void> {
    for (const guard of this.opts.guards ?? []) await guard.manifestDelete?.(repo, ref);
  }

  async checkBlobLink(repo: string, blob: BlobRecord): Promise<void> {
    for (const guard of this.opts.guards ?? []) await guard.blobLink?.(repo, blob);
  }
}
