/** What configuration allows: deletes (storage.delete.enabled) and writes (maintenance read-only mode). */
import { UnsupportedError } from './errors.ts';

export interface RegistryPolicyOptions {
  deleteEnabled: boolean;
  readOnly: boolean;
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
}
