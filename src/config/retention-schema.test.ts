/** The `retention` section: ages, patterns and regular expressions checked at start-up, each error at its key. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFiles, expectConfigError } from './test-support.ts';
import { loadConfig } from './load.ts';
import { retentionPolicySchema } from './retention-schema.ts';
import { effectiveConfigYaml } from './print.ts';
import { toPolicy } from '../retention/policy.ts';

const configFile = configFiles('retention');
const load = (yaml: string) => loadConfig({ env: {}, file: configFile(yaml) });

describe('config: retention', () => {
  it('reads policies, ages in days or hours, defaults filled in', () => {
    const { config, warnings } = load(`
retention:
  policies:
    - repository: "acme/*"
      keep: { newest: 10, tags: ["^v[0-9]"] }
      delete: { notpulledfor: 90d, untaggedafter: 36h }
    - repository: acme/app
`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.retention.policies, [
      { repository: 'acme/*', keep: { newest: 10, tags: ['^v[0-9]'] }, delete: { notpulledfor: '90d', untaggedafter: '36h' } },
      { repository: 'acme/app', keep: { tags: [] }, delete: {} },
    ]);
  });

  it('stops start-up on a bad regular expression, age or pattern, naming the key', () => {
    const text = (yaml: string) => expectConfigError(() => load(yaml)).message;
    assert.match(text('retention: { policies: [{ repository: "acme/*", keep: { tags: ["^v[0-9"] } }] }'), /retention\.policies\.0\.keep\.tags\.0[\s\S]*not a valid regular expression/);
    assert.match(text('retention: { policies: [{ repository: "acme/*", delete: { notpulledfor: 3w } }] }'), /retention\.policies\.0\.delete\.notpulledfor[\s\S]*unknown unit "w"/);
    assert.match(text('retention: { policies: [{ repository: "Acme/*" }] }'), /retention\.policies\.0\.repository[\s\S]*not a repository name/);
    assert.match(text('retention: { policies: [{ repository: "a/*" }, { repository: "a/*" }] }'), /two policies for "a\/\*"/);
    assert.match(text('retention: { policies: [{ repository: "a/*", keep: { newest: 0 } }] }'), /retention\.policies\.0\.keep\.newest/);
  });

  it('berth config check prints ages as written, and what it prints loads back the same', () => {
    const { config } = load('retention: { policies: [{ repository: "acme/*", keep: { newest: 3 }, delete: { notpulledfor: 90d, untaggedafter: 36h } }] }');
    const printed = effectiveConfigYaml(config);
    assert.match(printed, /notpulledfor: 90d/);
    assert.deepEqual(load(printed).config.retention, config.retention);
    assert.deepEqual(toPolicy(config.retention.policies[0]!), { repository: 'acme/*', keep: { newest: 3, tags: [] }, delete: { notpulledfor: 90 * 86_400_000, untaggedafter: 36 * 3_600_000 } });
  });

  it('the API form is strict: a misspelt rule is an error, not a warning', () => {
    const r = retentionPolicySchema(true).safeParse({ repository: 'acme/*', delete: { notpuledfor: '90d' } });
    assert.equal(r.success, false);
    assert.match(JSON.stringify(r.error?.issues), /notpuledfor/);
  });
});
