import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'pg-connection-string';
import { databaseSettings } from './database-schema.ts';
import { loadConfig } from './load.ts';
import { effectiveConfigYaml } from './print.ts';
import { configFiles, expectConfigError } from './test-support.ts';

const configFile = configFiles('config-database');
const load = (yaml: string, env: NodeJS.ProcessEnv = {}) => loadConfig({ env, file: configFile(yaml) });

describe('database: PostgreSQL settings', () => {
  it("GitLab's keys make one connection string, the password escaped, the pool sized", () => {
    const { config } = load('database:\n  enabled: true\n  host: db.local\n  port: 6432\n  user: reg\n  password: "p@ss/w:rd"\n  dbname: registry\n  sslmode: verify-full\n  sslrootcert: /etc/ca.pem\n  pool: { maxopen: 25 }\n');
    const s = databaseSettings(config.database);
    assert.equal(s.connectionString, 'postgres://reg:p%40ss%2Fw%3Ard@db.local:6432/registry?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem');
    assert.equal(s.maxOpen, 25);
    assert.equal(new URL(s.connectionString).password, encodeURIComponent('p@ss/w:rd'));
  });

  it('REGISTRY_DATABASE_* set every key, a url wins over the parts, a socket directory is a host', () => {
    const { config } = loadConfig({ env: { REGISTRY_DATABASE_ENABLED: 'true', REGISTRY_DATABASE_URL: 'postgres://u@h/d', REGISTRY_DATABASE_HOST: 'ignored' } });
    assert.equal(config.database.enabled, true);
    assert.equal(databaseSettings(config.database).connectionString, 'postgres://u@h/d');
    const socket = load('database: { enabled: true, host: /var/run/postgresql }\n').config;
    assert.equal(databaseSettings(socket.database).connectionString, 'postgres://berth@localhost:5432/berth?host=%2Fvar%2Frun%2Fpostgresql');
    assert.equal(parse(databaseSettings(socket.database).connectionString).host, '/var/run/postgresql');
  });

  it('refuses a url that is not postgres://, and masks the password and url when printed', () => {
    assert.match(expectConfigError(() => load('database: { url: "mysql://x" }\n')).message, /database\.url/);
    const printed = effectiveConfigYaml(load('database: { enabled: true, password: hunter2, url: "postgres://u:hunter2@h/d" }\n').config);
    assert.doesNotMatch(printed, /hunter2/);
  });

  it('storage.s3 needs meta.sqlite.path only without a database', () => {
    const s3 = 'storage:\n  s3: { region: us-east-1, bucket: b, regionendpoint: "http://127.0.0.1:1" }\n';
    assert.match(expectConfigError(() => load(s3)).message, /meta\.sqlite\.path[^\n]*database\.enabled/);
    assert.equal(load(`${s3}database: { enabled: true }\n`).config.database.enabled, true);
  });
});
