/**
 * The content guards a registry enforces from its config and the administrators' settings:
 * immutable tags (immutable.ts) and quotas (quota.ts), built once for the server (main.ts) and the
 * commands that change content (cli/repos.ts), so that every path is held to the same rules.
 */
import type { Config } from '../config/schema.ts';
import type { SettingsStore } from '../meta/settings.ts';
import type { StorageUsageStore } from '../meta/storage-usage.ts';
import type { MetaStore } from '../meta/store.ts';
import { ImmutableTags } from './immutable.ts';
import type { ContentGuard } from './policy.ts';
import { Quotas } from './quota.ts';

export interface ContentGuards {
  immutable: ImmutableTags;
  quotas: Quotas;
  /** Both, for RegistryOptions.guards. */
  all: ContentGuard[];
}

export function contentGuards(
  access: Config['access'],
  backend: { settings?: SettingsStore; usage: Pick<StorageUsageStore, 'namespaceUsage' | 'namespaceLinks'> },
  meta: Pick<MetaStore, 'resolveTag' | 'tagsOf'>,
): ContentGuards {
  const immutable = new ImmutableTags(access.immutable, backend.settings, meta);
  const quotas = new Quotas(access.quota, backend.settings, backend.usage);
  return { immutable, quotas, all: [immutable, quotas] };
}
