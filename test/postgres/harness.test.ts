/**
 * The PostgreSQL harness the PostgreSQL stores' suites run on: a server of its own on loopback,
 * databases created on demand, everything removed on stop.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { postgresBin, startPostgres, type Postgres } from '../helpers/postgres.ts';
import { IN_CI, run } from '../helpers/process.ts';

const bin = await postgresBin();
const skip = bin === undefined && !IN_CI ? 'PostgreSQL is not installed (Debian package postgresql; .ci/run installs it)' : false;
if (skip !== false) console.log(`# skipping: ${skip}`);

describe('PostgreSQL test harness', { skip }, () => {
  let pg: Postgres;
  const psql = (url: string, sql: string) => run(join(bin ?? '', 'psql'), [url, '-XqAtc', sql]);

  before(async () => {
    if (bin === undefined) throw new Error('PostgreSQL is not installed (required under CI=true; .ci/run installs it)');
    pg = await startPostgres();
  });
  after(() => pg?.stop());

  it('serves on 127.0.0.1 with a database of its own, and makes more on demand', async () => {
    assert.match(pg.url, /^postgres:\/\/berth@127\.0\.0\.1:\d+\/berth$/);
    const one = await psql(pg.url, "select current_user || ' ' || current_database() || ' ' || host(inet_server_addr())");
    assert.equal(one.stdout.trim(), 'berth berth 127.0.0.1', one.stderr);
    const other = await pg.createDatabase('second');
    assert.equal((await psql(other, 'create table t (x int); insert into t values (7); select x from t')).stdout.trim(), '7');
    assert.equal((await psql(pg.url, "select count(*) from pg_tables where tablename = 't'")).stdout.trim(), '0', 'databases are separate');
  });

  it('removes its directory when stopped', async () => {
    const { stop, port } = await startPostgres();
    const dir = (await psql(`postgres://berth@127.0.0.1:${port}/berth`, 'show data_directory')).stdout.trim();
    assert.ok(existsSync(dir));
    await stop();
    assert.equal(existsSync(dir), false);
  });
});
