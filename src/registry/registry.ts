/** The registry domain, composed: blobs, uploads and manifests over one driver and one meta store. */
import type { MetaStore } from '../meta/store.ts';
import type { StorageDriver } from '../storage/driver.ts';
import { BlobService } from './blobs.ts';
import { ManifestService } from './manifests.ts';
import { RegistryPolicy, type RegistryPolicyOptions } from './policy.ts';
import { UploadService } from './uploads.ts';

export interface RegistryOptions extends RegistryPolicyOptions {
  driver: StorageDriver;
  meta: MetaStore;
}

export class Registry {
  readonly policy: RegistryPolicy;
  readonly blobs: BlobService;
  readonly uploads: UploadService;
  readonly manifests: ManifestService;
  readonly meta: MetaStore;
  readonly driver: StorageDriver;

  constructor(opts: RegistryOptions) {
    this.driver = opts.driver;
    this.meta = opts.meta;
    this.policy = new RegistryPolicy(opts);
    this.blobs = new BlobService(opts.driver, opts.meta, this.policy);
    this.uploads = new UploadService(opts.driver, opts.meta, this.policy);
    this.manifests = new ManifestService(opts.driver, opts.meta, this.policy);
  }
}
