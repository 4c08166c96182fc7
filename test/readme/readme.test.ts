/**
 * The README, run: every command of its ```sh blocks in order, with real clients (docker through a
 * dockerd of its own, podman, skopeo, curl) against the registry its quick start starts, each
 * YAML config it shows checked by `berth config check`, each JSON block parsed. A command the test
 * does not run is named in test/readme/commands.ts with the reason, and printed here.
 *
 * What a reader is assumed to have (images to push, an OCI layout, a `docker save` archive) is made
 * from the test fixtures first, under the names the README uses.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { writeDockerArchive, writeSingleArchLayout } from '../fixtures/oci.ts';
import { startDockerd, stopDockerd, type Daemon } from '../helpers/dockerd.ts';
import { podmanSandbox } from '../helpers/podman.ts';
import { freePort, REPO_ROOT, requireTools, run, runOk, tempDir } from '../helpers/process.ts';
import { buildScript, readmeBlocks, readmeCommands, RULES, ruleFor, type Places } from './commands.ts';

const tools = requireTools('dockerd', 'docker', 'podman', 'skopeo', 'curl', 'jq');
const README = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');

describe('the README, run', { skip: tools.skip }, () => {
  let work: string;
  let daemon: Daemon | undefined;
  let places: Places;
  let env: Record<string, string>;

  before(async () => {
    tools.check();
    work = await tempDir('readme');
    places = { port: await freePort(), probePort: await freePort(), srv: join(work, 'srv') };
    // `npm link` links into this prefix; `berth` is found in its bin/ once the README's `npm link` ran
    const prefix = join(work, 'npm-global');
    await Promise.all([places.srv, join(work, 'home')].map((d) => mkdir(d, { recursive: true })));
    await mkdir(join(work, 'docker'));
    // 127.0.0.0/8 is insecure to dockerd by default, as the README says; naming it changes nothing
    daemon = await startDockerd(join(work, 'docker'), `127.0.0.1:${places.port}`);
    const podman = await podmanSandbox(join(work, 'podman'), `127.0.0.1:${places.port}`);
    // ... but not to podman and skopeo: the README's --tls-verify=false must be what makes them work
    const registriesConf = join(work, 'registries.conf');
    await writeFile(registriesConf, 'unqualified-search-registries = []\n');
    env = {
      PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`,
      npm_config_prefix: prefix,
      HOME: join(work, 'home'),
      ...daemon.env,
      ...podman.env,
      CONTAINERS_REGISTRIES_CONF: registriesConf,
      REPO_ROOT,
      REGISTRY_HTTP_ADDR: `127.0.0.1:${places.port}`,
      REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(work, 'data'),
      REGISTRY_LOG_LEVEL: 'info',
      SERVER_LOG: join(work, 'server.log'),
      PROBE_LOG: join(work, 'probe.log'),
      PROBE_ROOT: join(work, 'probe-data'),
      ADMIN_PASSWORD: 'admin-password-1',
      PASSWORD: 'alice-password-1',
      BOB_PASSWORD: 'bob-password-1',
      NEW_PASSWORD: 'bob-password-2',
      DOCKERHUB_TOKEN: 'not-a-real-token',
    };
    // What the README assumes a reader has: an image `alpine` in docker, `localhost/app` in
    // podman, an OCI layout ./layout with tag 1.0 and a `docker save` archive img.tar.
    await writeDockerArchive(join(work, 'alpine.tar'), { repoTag: 'alpine:latest', label: 'readme-alpine' });
    await runOk('docker', ['load', '--input', join(work, 'alpine.tar')], { env });
    await writeDockerArchive(join(work, 'app.tar'), { repoTag: 'localhost/app:latest', label: 'readme-app' });
    await runOk('podman', [...podman.globals, 'load', '--input', join(work, 'app.tar')], { env });
    await writeSingleArchLayout(join(work, 'layout'), { tag: '1.0', label: 'readme-layout' });
    await writeDockerArchive(join(work, 'img.tar'), { repoTag: 'img:1', label: 'readme-archive' });
  });

  after(async () => {
    if (daemon !== undefined) await stopDockerd(daemon, join(work, 'docker'));
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('every rule names a command the README has (none is stale)', () => {
    const commands = readmeCommands(README);
    for (const rule of RULES) assert.ok(commands.some((c) => rule.match.test(c.text)), `no README command matches ${rule.match}`);
    // the quick start's command is the one that starts the registry the others use
    assert.equal(commands.filter((c) => ruleFor(c)?.serve === 'main').length, 1);
  });

  it('runs every command of the README in order', async (t) => {
    const { script, skipped } = buildScript(readmeCommands(README), places);
    for (const s of skipped) t.diagnostic(`not run: README:${s.line} \`${s.text}\`: ${s.why}`);
    const file = join(work, 'readme.sh');
    await writeFile(file, script);
    const result = await run('bash', [file], { cwd: work, env, timeout: 600_000 });
    const logs = async (): Promise<string> => `--- server log ---\n${(await readFile(env.SERVER_LOG ?? "", "utf8").catch(() => "")).split("\n").slice(-25).join("\n")}`;
    assert.equal(result.code, 0, `${result.stderr.slice(-8000)}\n--- stdout ---\n${result.stdout.slice(-4000)}\n${await logs()}`);
  });

  it("checks every YAML config the README shows with `berth config check`", async () => {
    const blocks = readmeBlocks(README, 'yaml');
    assert.ok(blocks.length > 0);
    for (const block of blocks) {
      const file = join(work, `config-${block.line}.yml`);
      await writeFile(file, block.text);
      const res = await run('node', [join(REPO_ROOT, 'bin', 'berth.js'), 'config', 'check', '--config', file], { env: { ...env, REGISTRY_HTTP_ADDR: undefined } });
      assert.equal(res.code, 0, `README line ${block.line}: ${res.stderr}`);
    }
  });

  it('shows the storage and database of deploy/cluster/berth.yml as they are in the file', async () => {
    const block = readmeBlocks(README, 'yaml').find((b) => b.text.includes('deploy/cluster/berth.yml'));
    assert.ok(block, 'a yaml block quoting deploy/cluster/berth.yml');
    const shown = parseYaml(block.text) as Record<string, unknown>;
    const file = parseYaml(await readFile(join(REPO_ROOT, 'deploy', 'cluster', 'berth.yml'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual({ storage: shown['storage'], database: shown['database'] }, { storage: file['storage'], database: file['database'] });
  });

  it('parses every JSON block the README shows', () => {
    for (const block of readmeBlocks(README, 'json')) assert.doesNotThrow(() => JSON.parse(block.text), `README line ${block.line}`);
  });
});
