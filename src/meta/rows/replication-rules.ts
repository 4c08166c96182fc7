/**
 * The rows of replication_rules as both rule stores read them (sqlite/replication-rule-store.ts,
 * postgres/replication-rule-store.ts) and their mapping to replication/model.ts's StoredRule.
 */
import type { StoredRule } from '../../replication/model.ts';

export interface RuleRow {
  name: string;
  spec: string;
  sealed_password: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export const RULE_COLUMNS = 'name, spec, sealed_password, created_by, created_at, updated_at';

export function toStoredRule(r: RuleRow): StoredRule {
  return { name: r.name, spec: r.spec, sealedPassword: r.sealed_password, createdBy: r.created_by, createdAt: r.created_at, updatedAt: r.updated_at };
}
