/**
 * Where berth's sealing key (secret-box.ts) lives for a config: PostgreSQL's sealing_keys when the
 * meta store is PostgreSQL (every node opens what any node sealed), else a file beside the token
 * signing keys, else (an in-memory registry) memory. Build rules' secrets and replication rules'
 * passwords are sealed with it, each bound to its rule and field.
 */
import { keyDirectory } from '../auth/setup.ts';
import type { Config } from '../config/schema.ts';
import type { Backend } from '../meta/backend.ts';
import { FileSealingKey, MemorySealingKey, type SealingKeySource } from './secret-box.ts';

export function sealingKeySource(config: Config, backend: Pick<Backend, 'sealingKey'>): SealingKeySource {
  if (backend.sealingKey !== undefined) return backend.sealingKey;
  const dir = keyDirectory(config);
  return dir === undefined ? new MemorySealingKey() : new FileSealingKey(dir);
}
