/**
 * Replication rules made through the API or the CLI, on the meta store's SQLite database
 * (migration 19). A create counts and inserts in one IMMEDIATE transaction, so two processes on
 * the file cannot pass the cap together; a delete takes the rule's runs with it.
 */
import type Database from 'better-sqlite3';
import type { ReplicationRuleStore, StoredRule } from '../../replication/model.ts';
import { RULE_COLUMNS, toStoredRule, type RuleRow } from '../rows/replication-rules.ts';

function prepare(db: Database.Database) {
  return {
    list: db.prepare<[], RuleRow>(`SELECT ${RULE_COLUMNS} FROM replication_rules ORDER BY name`),
    get: db.prepare<[string], RuleRow>(`SELECT ${RULE_COLUMNS} FROM replication_rules WHERE name = ?`),
    count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM replication_rules'),
    insert: db.prepare<[string, string, string | null, string, number, number]>(
      `INSERT INTO replication_rules (${RULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
    ),
    replace: db.prepare<[string, string | null, number, string]>('UPDATE replication_rules SET spec = ?, sealed_password = ?, updated_at = ? WHERE name = ?'),
    delete: db.prepare<[string]>('DELETE FROM replication_rules WHERE name = ?'),
    deleteRuns: db.prepare<[string]>('DELETE FROM replication_runs WHERE rule = ?'),
  };
}

export class SqliteReplicationRuleStore implements ReplicationRuleStore {
  private readonly st: ReturnType<typeof prepare>;

  /** `db` is the meta store's connection (SqliteMetaStore.database), already migrated. */
  constructor(private readonly db: Database.Database) {
    this.st = prepare(db);
  }

  async list(): Promise<StoredRule[]> {
    return this.st.list.all().map(toStoredRule);
  }

  async get(name: string): Promise<StoredRule | undefined> {
    const row = this.st.get.get(name);
    return row === undefined ? undefined : toStoredRule(row);
  }

  async create(rule: StoredRule, max: number): Promise<'created' | 'exists' | 'full'> {
    const create = this.db.transaction((): 'created' | 'exists' | 'full' => {
      if (this.st.get.get(rule.name) !== undefined) return 'exists';
      if ((this.st.count.get()?.n ?? 0) >= max) return 'full';
      this.st.insert.run(rule.name, rule.spec, rule.sealedPassword, rule.createdBy, rule.createdAt, rule.updatedAt);
      return 'created';
    });
    return create.immediate();
  }

  async replace(rule: Pick<StoredRule, 'name' | 'spec' | 'sealedPassword' | 'updatedAt'>): Promise<boolean> {
    return this.st.replace.run(rule.spec, rule.sealedPassword, rule.updatedAt, rule.name).changes > 0;
  }

  async delete(name: string): Promise<boolean> {
    const del = this.db.transaction((): boolean => {
      if (this.st.delete.run(name).changes === 0) return false;
      this.st.deleteRuns.run(name);
      return true;
    });
    return del.immediate();
  }
}
