/**
 * Replication rules made through the API or the CLI on PostgreSQL (schema/replication.ts), the
 * twin of sqlite/replication-rule-store.ts. A create counts and inserts under a transaction-scoped
 * advisory lock, so two nodes cannot pass the cap together; a delete takes the rule's runs with it.
 */
import type { ReplicationRuleStore, StoredRule } from '../../replication/model.ts';
import { RULE_COLUMNS, toStoredRule, type RuleRow } from '../rows/replication-rules.ts';
import type { PgDatabase } from './database.ts';

/** The advisory lock of creates ("rrul"). */
const CREATE_LOCK = 0x7272756c;

const SQL = {
  lock: 'SELECT pg_advisory_xact_lock($1)',
  list: `SELECT ${RULE_COLUMNS} FROM replication_rules ORDER BY name`,
  get: `SELECT ${RULE_COLUMNS} FROM replication_rules WHERE name = $1`,
  count: 'SELECT COUNT(*) AS n FROM replication_rules',
  insert: `INSERT INTO replication_rules (${RULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING`,
  replace: 'UPDATE replication_rules SET spec = $1, sealed_password = $2, updated_at = $3 WHERE name = $4',
  delete: 'DELETE FROM replication_rules WHERE name = $1',
  deleteRuns: 'DELETE FROM replication_runs WHERE rule = $1',
};

export class PgReplicationRuleStore implements ReplicationRuleStore {
  constructor(private readonly db: PgDatabase) {}

  async list(): Promise<StoredRule[]> {
    return (await this.db.rows<RuleRow>(SQL.list)).map(toStoredRule);
  }

  async get(name: string): Promise<StoredRule | undefined> {
    const row = await this.db.one<RuleRow>(SQL.get, [name]);
    return row === undefined ? undefined : toStoredRule(row);
  }

  async create(rule: StoredRule, max: number): Promise<'created' | 'exists' | 'full'> {
    return this.db.transaction(async (tx) => {
      await tx.query(SQL.lock, [CREATE_LOCK]);
      if ((await this.db.one(SQL.get, [rule.name], tx)) !== undefined) return 'exists';
      if (((await this.db.one<{ n: number }>(SQL.count, [], tx))?.n ?? 0) >= max) return 'full';
      await tx.query(SQL.insert, [rule.name, rule.spec, rule.sealedPassword, rule.createdBy, rule.createdAt, rule.updatedAt]);
      return 'created';
    });
  }

  async replace(rule: Pick<StoredRule, 'name' | 'spec' | 'sealedPassword' | 'updatedAt'>): Promise<boolean> {
    return ((await this.db.query(SQL.replace, [rule.spec, rule.sealedPassword, rule.updatedAt, rule.name])).rowCount ?? 0) > 0;
  }

  async delete(name: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      if (((await tx.query(SQL.delete, [name])).rowCount ?? 0) === 0) return false;
      await tx.query(SQL.deleteRuns, [name]);
      return true;
    });
  }
}
