/** Statements prepared once, on first use, by their SQL text (for stores that build SQL per query shape). */
import type Database from 'better-sqlite3';

export class PreparedStatements {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  get(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (st === undefined) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }
}
