/**
 * The docker-registry image's storage variables (AWS_BUCKET, AWS_KEY, AWS_SECRET, AWS_REGION,
 * STORAGE_PATH) and flavors (SETTINGS_FLAVOR=s3|local) through the real loader, as a tutorial
 * user types them: what they set, the one-line notice each, what beats them, what fails, and that
 * the secret is never printed (notices, `berth config check`, errors).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { runBerth } from '../cli/test-support.ts';
import { EX_CONFIG } from '../cli/command.ts';
import { configFiles, expectConfigError } from './test-support.ts';
import { loadConfig, type LoadedConfig } from './load.ts';
import { MASK } from './secrets.ts';

const configFile = configFiles('config-legacy');
const KEY = 'AKIATUTORIALKEY0001';
const SECRET = 'tutorial/Secret+Value/0123456789abcdefXYZ';
const META = { REGISTRY_META_SQLITE_PATH: '/var/lib/berth/berth.db' };
/** `docker run -e SETTINGS_FLAVOR=s3 -e AWS_BUCKET=b -e AWS_KEY=k -e AWS_SECRET=s`, and where the metadata goes. */
const TUTORIAL = { SETTINGS_FLAVOR: 's3', AWS_BUCKET: 'acme-docker', AWS_KEY: KEY, AWS_SECRET: SECRET, ...META };

function load(env: NodeJS.ProcessEnv, yaml?: string): LoadedConfig {
  return loadConfig({ env, file: yaml === undefined ? undefined : configFile(yaml) });
}

function s3Of(loaded: LoadedConfig) {
  const storage = loaded.config.storage;
  assert.equal(storage.driver, 's3');
  assert.ok(storage.driver === 's3');
  return storage.s3;
}

describe('legacy storage variables: the tutorial command', () => {
  it('SETTINGS_FLAVOR=s3 with AWS_BUCKET, AWS_KEY, AWS_SECRET: storage.s3 in us-east-1, one notice per variable', () => {
    const loaded = load(TUTORIAL);
    const s3 = s3Of(loaded);
    assert.equal(loaded.profile, 's3');
    assert.deepEqual(
      { bucket: s3.bucket, accesskey: s3.accesskey, secretkey: s3.secretkey, region: s3.region, rootdirectory: s3.rootdirectory },
      { bucket: 'acme-docker', accesskey: KEY, secretkey: SECRET, region: 'us-east-1', rootdirectory: '' },
    );
    assert.deepEqual(loaded.warnings, [
      "SETTINGS_FLAVOR=s3 selects profile s3; berth's own variable is REGISTRY_PROFILE (or --profile NAME)",
      "profile s3 is built in (the config defines none): the docker-registry image's s3 flavor, storage.s3 from AWS_BUCKET, AWS_KEY, AWS_SECRET, AWS_REGION, STORAGE_PATH",
      "AWS_BUCKET=acme-docker selects storage s3 and sets storage.s3.bucket; berth's own variable is REGISTRY_STORAGE_S3_BUCKET",
      "AWS_KEY sets storage.s3.accesskey; berth's own variable is REGISTRY_STORAGE_S3_ACCESSKEY",
      "AWS_SECRET sets storage.s3.secretkey; berth's own variable is REGISTRY_STORAGE_S3_SECRETKEY",
      'AWS_REGION is not set: storage.s3.region is us-east-1, S3\'s default; set AWS_REGION (or REGISTRY_STORAGE_S3_REGION) to the bucket\'s region if it is elsewhere',
    ]);
  });

  it('without a place for the metadata, fails naming meta.sqlite.path (blobs in a bucket, metadata never in memory)', () => {
    const { REGISTRY_META_SQLITE_PATH: _, ...bare } = TUTORIAL;
    const err = expectConfigError(() => load(bare));
    assert.deepEqual(err.problems.map((p) => p.path), ['meta.sqlite.path']);
    assert.match(err.message, /meta\.sqlite\.path: required with storage\.s3/);
    assert.ok(!err.message.includes(SECRET));
  });

  it('AWS_REGION and STORAGE_PATH set the region and the key prefix; works without SETTINGS_FLAVOR', () => {
    const loaded = load({ AWS_BUCKET: 'b', AWS_KEY: KEY, AWS_SECRET: SECRET, AWS_REGION: 'eu-west-3', STORAGE_PATH: '/registry', ...META });
    const s3 = s3Of(loaded);
    assert.equal(s3.region, 'eu-west-3');
    assert.equal(s3.rootdirectory, '/registry');
    assert.equal(loaded.profile, undefined);
    assert.ok(loaded.warnings.includes("AWS_REGION=eu-west-3 sets storage.s3.region; berth's own variable is REGISTRY_STORAGE_S3_REGION"));
    assert.ok(loaded.warnings.includes("STORAGE_PATH=/registry sets storage.s3.rootdirectory; berth's own variable is REGISTRY_STORAGE_S3_ROOTDIRECTORY"));
  });

  it('replaces the file\'s driver, and beats its keys, saying so', () => {
    const loaded = load({ AWS_BUCKET: 'b', AWS_REGION: 'eu-west-3', ...META }, 'storage:\n  filesystem:\n    rootdirectory: /srv\n');
    assert.equal(s3Of(loaded).bucket, 'b');
    assert.ok(loaded.warnings.includes("AWS_BUCKET=b selects storage s3 (replacing storage.filesystem) and sets storage.s3.bucket; berth's own variable is REGISTRY_STORAGE_S3_BUCKET"));
    const fromFile = load({ AWS_BUCKET: 'b', ...META }, 'storage:\n  s3:\n    bucket: old\n    region: ap-south-1\n    accesskey: a\n    secretkey: s\n');
    assert.deepEqual([s3Of(fromFile).bucket, s3Of(fromFile).region, s3Of(fromFile).accesskey], ['b', 'ap-south-1', 'a']);
    assert.ok(!fromFile.warnings.some((w) => w.startsWith('AWS_REGION is not set') || w.startsWith('AWS_KEY and AWS_SECRET are not set')));
  });

  it('without AWS_KEY and AWS_SECRET, says the credentials come from the AWS SDK chain', () => {
    const loaded = load({ AWS_BUCKET: 'b', AWS_REGION: 'eu-west-3', AWS_ACCESS_KEY_ID: KEY, ...META });
    assert.equal(s3Of(loaded).accesskey, undefined);
    assert.ok(loaded.warnings.some((w) => w.startsWith('AWS_KEY and AWS_SECRET are not set: S3 credentials come from the AWS SDK')));
  });
});

describe("legacy storage variables: berth's own win", () => {
  it('REGISTRY_STORAGE_S3_* beat the aliases key by key, each with a notice; the others still apply', () => {
    const loaded = load({
      AWS_BUCKET: 'legacy-bucket',
      AWS_KEY: KEY,
      AWS_SECRET: SECRET,
      AWS_REGION: 'eu-west-3',
      REGISTRY_STORAGE_S3_BUCKET: 'own-bucket',
      REGISTRY_Storage_S3_Region: 'us-west-2',
      ...META,
    });
    const s3 = s3Of(loaded);
    assert.deepEqual([s3.bucket, s3.region, s3.accesskey, s3.secretkey], ['own-bucket', 'us-west-2', KEY, SECRET]);
    assert.ok(loaded.warnings.includes('AWS_BUCKET=legacy-bucket ignored: REGISTRY_STORAGE_S3_BUCKET sets storage.s3.bucket'));
    assert.ok(loaded.warnings.includes('AWS_REGION=eu-west-3 ignored: REGISTRY_STORAGE_S3_REGION sets storage.s3.region'));
  });

  it('REGISTRY_STORAGE=s3 agrees with AWS_BUCKET and keeps what it set', () => {
    const s3 = s3Of(load({ REGISTRY_STORAGE: 's3', AWS_BUCKET: 'b', AWS_REGION: 'eu-west-3', ...META }));
    assert.deepEqual([s3.bucket, s3.region], ['b', 'eu-west-3']);
  });

  it('a REGISTRY_* variable naming another driver is an error naming both', () => {
    const err = expectConfigError(() => load({ SETTINGS_FLAVOR: 's3', AWS_BUCKET: 'b', REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/data', ...META }));
    assert.deepEqual(err.problems, [
      {
        path: 'storage',
        reason: 'AWS_BUCKET selects storage driver "s3" but REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY selects "filesystem": unset one of them',
        source: 'AWS_BUCKET',
      },
    ]);
  });

  it('a problem in an aliased key names the variable it came from', () => {
    const err = expectConfigError(() => load({ AWS_BUCKET: 'b', STORAGE_PATH: '/p', REGISTRY_STORAGE_S3_CHUNKSIZE: '1', ...META }));
    assert.deepEqual(err.problems.map((p) => [p.path, p.source]), [['storage.s3.chunksize', 'REGISTRY_STORAGE_S3_CHUNKSIZE']]);
    const half = expectConfigError(() => load({ AWS_BUCKET: 'b', AWS_KEY: KEY, ...META }));
    assert.match(half.message, /storage\.s3\.secretkey: accesskey and secretkey go together/);
  });
});

describe('legacy storage variables without AWS_BUCKET', () => {
  it('ignores AWS_KEY, AWS_SECRET and STORAGE_PATH with a notice (never showing the key or secret), AWS_REGION silently', () => {
    const loaded = load({ AWS_KEY: KEY, AWS_SECRET: SECRET, AWS_REGION: 'eu-west-3', STORAGE_PATH: '/registry' });
    assert.equal(loaded.config.storage.driver, 'filesystem');
    assert.deepEqual(loaded.config, load({}).config);
    assert.deepEqual(loaded.warnings, [
      "AWS_KEY ignored: it names no storage without AWS_BUCKET; berth's own variable is REGISTRY_STORAGE_S3_ACCESSKEY",
      "AWS_SECRET ignored: it names no storage without AWS_BUCKET; berth's own variable is REGISTRY_STORAGE_S3_SECRETKEY",
      "STORAGE_PATH=/registry ignored: it names no storage without AWS_BUCKET; berth's own variable is REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY or REGISTRY_STORAGE_S3_ROOTDIRECTORY",
    ]);
  });

  it('SETTINGS_FLAVOR=s3 with no bucket anywhere fails saying what to set', () => {
    const err = expectConfigError(() => load({ SETTINGS_FLAVOR: 's3', AWS_KEY: KEY, AWS_SECRET: SECRET }));
    assert.equal(err.problems[0]?.path, 'storage.s3');
    assert.match(err.message, /profile s3 \(built in: the docker-registry image's s3 flavor\) needs a bucket: set AWS_BUCKET/);
    assert.ok(!err.message.includes(SECRET) && !err.message.includes(KEY));
  });

  it('SETTINGS_FLAVOR=s3 is satisfied by REGISTRY_STORAGE_S3_* or the file\'s storage.s3', () => {
    const own = load({ SETTINGS_FLAVOR: 's3', REGISTRY_STORAGE_S3_BUCKET: 'b', REGISTRY_STORAGE_S3_REGION: 'us-east-1', ...META });
    assert.equal(s3Of(own).bucket, 'b');
    const file = load({ SETTINGS_FLAVOR: 's3', ...META }, 'storage:\n  s3:\n    bucket: f\n    region: us-east-1\n');
    assert.equal(s3Of(file).bucket, 'f');
  });
});

describe('built-in profiles s3 and local', () => {
  it('SETTINGS_FLAVOR=local: the filesystem at STORAGE_PATH, replacing the file\'s driver; AWS_BUCKET is ignored', () => {
    const loaded = load({ SETTINGS_FLAVOR: 'local', STORAGE_PATH: '/registry', AWS_BUCKET: 'b' }, 'storage:\n  inmemory: {}\n');
    assert.deepEqual(loaded.config.storage.driver === 'filesystem' && loaded.config.storage.filesystem, { rootdirectory: '/registry' });
    assert.equal(loaded.config.meta.sqlite.path, '/registry/berth.db');
    assert.deepEqual(loaded.warnings.slice(1), [
      "profile local is built in (the config defines none): the docker-registry image's local flavor, storage on the filesystem",
      "STORAGE_PATH=/registry sets storage.filesystem.rootdirectory; berth's own variable is REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY",
      'AWS_BUCKET=b ignored: profile local stores on the filesystem',
    ]);
    const own = load({ SETTINGS_FLAVOR: 'local', STORAGE_PATH: '/registry', REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/data' });
    assert.deepEqual(own.config.storage.driver === 'filesystem' && own.config.storage.filesystem, { rootdirectory: '/data' });
    assert.ok(own.warnings.includes('STORAGE_PATH=/registry ignored: REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY sets storage.filesystem.rootdirectory'));
    const plain = load({ SETTINGS_FLAVOR: 'local' });
    assert.equal(plain.config.storage.driver, 'filesystem');
    assert.equal(plain.profile, 'local');
  });

  it('a profile of that name in the file is used instead, with no built-in notice', () => {
    const loaded = load({ SETTINGS_FLAVOR: 's3', AWS_BUCKET: 'b', ...META }, 'profiles:\n  s3:\n    storage:\n      inmemory: {}\n');
    assert.equal(s3Of(loaded).bucket, 'b', 'AWS_BUCKET (an environment variable) beats the profile');
    assert.ok(!loaded.warnings.some((w) => w.includes('built in')));
    const local = load({ SETTINGS_FLAVOR: 'local' }, 'profiles:\n  local:\n    storage:\n      inmemory: {}\n');
    assert.equal(local.config.storage.driver, 'inmemory');
  });

  it('are selected by --profile and REGISTRY_PROFILE too; other unknown names still fail', () => {
    assert.equal(loadConfig({ env: {}, profile: 'local' }).config.storage.driver, 'filesystem');
    assert.equal(s3Of(load({ REGISTRY_PROFILE: 's3', AWS_BUCKET: 'b', ...META })).bucket, 'b');
    const err = expectConfigError(() => load({ SETTINGS_FLAVOR: 'prod' }));
    assert.match(err.message, /no profile named "prod"/);
  });
});

describe('berth config check with the tutorial variables', () => {
  it('prints storage.s3 with the secret masked, and the secret nowhere in its output', async () => {
    const { code, stdout, stderr } = await runBerth(['config', 'check'], TUTORIAL);
    assert.equal(code, 0, stderr);
    const tree = parse(stdout) as { storage: { s3: Record<string, unknown> } };
    assert.equal(tree.storage.s3['bucket'], 'acme-docker');
    assert.equal(tree.storage.s3['accesskey'], KEY);
    assert.equal(tree.storage.s3['secretkey'], MASK);
    assert.ok(!`${stdout}${stderr}`.includes(SECRET), stdout);
    assert.match(stdout, /\n# warning: AWS_SECRET sets storage\.s3\.secretkey; berth's own variable is REGISTRY_STORAGE_S3_SECRETKEY\n/);
  });

  it('exits 78 on the tutorial command without a metadata path, the secret nowhere', async () => {
    const { REGISTRY_META_SQLITE_PATH: _, ...bare } = TUTORIAL;
    const { code, stdout, stderr } = await runBerth(['config', 'check'], bare);
    assert.equal(code, EX_CONFIG);
    assert.match(stderr, /meta\.sqlite\.path: required with storage\.s3/);
    assert.ok(!`${stdout}${stderr}`.includes(SECRET));
  });
});
