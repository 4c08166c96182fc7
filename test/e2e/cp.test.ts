/**
 * `berth cp` as people run it, a process beside two berths and a distribution 2.8.2 with
 * htpasswd: an index and its images through every transport (docker://, oci:, oci-archive:,
 * docker-archive:) with the digests checked by skopeo; blobs skipped and mounted on the way back;
 * credentials that never show; and a copy killed mid-blob, run again, that sends only the rest.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { watch } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeMultiArchLayout, writeSingleArchLayout, type MultiArchLayout } from '../fixtures/oci.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { startDistribution, type Distribution } from '../helpers/mirror.ts';
import { REPO_ROOT, requireTools, run, runOk, tempDir } from '../helpers/process.ts';

const tools = requireTools('skopeo', 'docker-registry');

interface Summary {
  digest: string;
  images: number;
  blobs: { copied: number; skipped: number; mounted: number };
  bytes: number;
}

const host = (url: string): string => url.replace(/^http:\/\//, '');
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('berth cp', { skip: tools.skip }, () => {
  let work: string;
  let a: TestRegistry;
  let b: TestRegistry;
  let dist: Distribution;
  let multi: MultiArchLayout;
  let env: Record<string, string>;

  const cp = async (...args: string[]): Promise<Summary> => {
    const r = await runOk(process.execPath, ['bin/berth.js', 'cp', ...args, '--json'], { cwd: REPO_ROOT, env });
    return JSON.parse(r.stdout) as Summary;
  };
  /** The digest of the manifest skopeo reads at `place` (its raw bytes, hashed). */
  const skopeoDigest = async (place: string, creds?: string): Promise<string> => {
    const r = await runOk('skopeo', ['inspect', '--raw', '--tls-verify=false', ...(creds === undefined ? [] : ['--creds', creds]), place]);
    return sha(Buffer.from(r.stdout.replace(/\n$/, ''), 'utf8'));
  };

  before(async () => {
    tools.check();
    work = await tempDir('cp');
    env = { BERTH_FROM_SOURCE: '1', XDG_CACHE_HOME: path.join(work, 'cache'), DOCKER_CONFIG: path.join(work, 'docker-config'), HOME: work };
    [a, b, dist] = await Promise.all([startTestRegistry(), startTestRegistry(), startDistribution()]);
    multi = await writeMultiArchLayout(path.join(work, 'multi'), { tag: 'v1', label: 'cp' });
  });

  after(async () => {
    await Promise.allSettled([a?.stop(), b?.stop(), dist?.stop()]);
    if (work !== undefined) await fs.rm(work, { recursive: true, force: true });
  });

  it('copies an index with --all through every transport, its digest unchanged', async () => {
    const toA = await cp(`oci:${multi.dir}:v1`, `docker://${host(a.url)}/alice/multi:v1`, '--all', '--limit-rate', '100MiB');
    assert.equal(toA.digest, multi.indexDigest);
    assert.equal(toA.images, 2);
    // no tag on the destination: the source's
    const toB = await cp(`docker://${host(a.url)}/alice/multi:v1`, `docker://${host(b.url)}/bob/multi`, '--all');
    assert.equal(toB.digest, multi.indexDigest);
    assert.equal(await skopeoDigest(`docker://${host(b.url)}/bob/multi:v1`), multi.indexDigest);
    const archive = path.join(work, 'multi.tar');
    await cp(`docker://${host(b.url)}/bob/multi:v1`, `oci-archive:${archive}:v1`, '--all');
    assert.equal(await skopeoDigest(`oci-archive:${archive}:v1`), multi.indexDigest);
    await cp(`oci-archive:${archive}:v1`, `oci:${path.join(work, 'again')}`, '--all');
    const back = await cp(`oci:${path.join(work, 'again')}:v1`, `docker://${host(a.url)}/alice/again:v1`, '--all');
    assert.equal(back.digest, multi.indexDigest);
  });

  it('copies the image for this machine out of an index, into a docker save archive and back', async () => {
    const mine = multi.images.find((i) => i.architecture === (process.arch === 'arm64' ? 'arm64' : 'amd64'));
    assert.ok(mine);
    const archive = path.join(work, 'single.tar');
    const out = await cp(`docker://${host(a.url)}/alice/multi:v1`, `docker-archive:${archive}:alice/single:v1`);
    assert.equal(out.digest, mine.manifestDigest, 'the platform image, not the index');
    const inspected = JSON.parse((await runOk('skopeo', ['inspect', `docker-archive:${archive}`])).stdout) as { Digest: string; Layers: string[] };
    assert.equal(inspected.Layers.length, mine.layerDigests.length);
    const reloaded = await cp(`docker-archive:${archive}`, `docker://${host(b.url)}/bob/single:v1`);
    assert.equal(reloaded.digest, mine.manifestDigest);
  });

  it('skips what the destination has and mounts within one registry', async () => {
    const again = await cp(`oci:${multi.dir}:v1`, `docker://${host(a.url)}/alice/multi:v1`, '--all');
    assert.equal(again.bytes, 0);
    assert.equal(again.blobs.copied, 0);
    assert.ok(again.blobs.skipped > 0);
    const mounted = await cp(`docker://${host(a.url)}/alice/multi:v1`, `docker://${host(a.url)}/carol/multi:v1`, '--all');
    assert.equal(mounted.bytes, 0);
    assert.equal(mounted.blobs.copied + mounted.blobs.skipped, 0);
    assert.equal(mounted.blobs.mounted, again.blobs.skipped);
    // B got these blobs in bob/multi from an earlier copy (from A): a copy into another repository of B mounts them from there
    const remembered = await cp(`docker://${host(a.url)}/alice/multi:v1`, `docker://${host(b.url)}/dave/multi:v1`, '--all');
    assert.equal(remembered.bytes, 0);
    assert.equal(remembered.blobs.mounted, again.blobs.skipped);
    assert.equal(await skopeoDigest(`docker://${host(b.url)}/dave/multi:v1`), multi.indexDigest);
  });

  it('refuses a rate limit that is not one', async () => {
    for (const bad of ['0', 'fast', '100']) {
      const r = await run(process.execPath, ['bin/berth.js', 'cp', `oci:${multi.dir}:v1`, `docker://${host(a.url)}/alice/never:v1`, '--limit-rate', bad], { cwd: REPO_ROOT, env });
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /--limit-rate/);
    }
  });

  it('copies the pairs of a file, carries on past one that fails, and exits 1', async () => {
    const list = path.join(work, 'list.txt');
    await fs.writeFile(
      list,
      [
        '# images for the other registry',
        `docker://${host(a.url)}/alice/multi:v1 docker://${host(b.url)}/listed/one:v1`,
        '',
        `docker://${host(a.url)}/alice/missing:v9 docker://${host(b.url)}/listed/two:v9`,
        `oci:${multi.dir}:v1 docker://${host(b.url)}/listed/three:v1`,
      ].join('\n'),
    );
    const r = await run(process.execPath, ['bin/berth.js', 'cp', '--from-file', list, '--all', '--json'], { cwd: REPO_ROOT, env });
    assert.equal(r.code, 1, r.stderr);
    const results = JSON.parse(r.stdout) as (Summary & { error?: string; destination: string })[];
    assert.deepEqual(results.map((x) => x.error === undefined), [true, false, true]);
    assert.match(results[1]?.error ?? '', /alice\/missing/);
    assert.equal(results[0]?.digest, multi.indexDigest);
    assert.equal(await skopeoDigest(`docker://${host(b.url)}/listed/three:v1`), multi.indexDigest);
  });

  it('copies to a registry that needs credentials, and never prints them', async () => {
    const refused = await run(process.execPath, ['bin/berth.js', 'cp', `docker://${host(a.url)}/alice/multi:v1`, `docker://${host(dist.url)}/team/multi:v1`, '--all'], { cwd: REPO_ROOT, env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /401|unauthori[sz]ed|credentials/i);
    const creds = `${dist.user}:${dist.password}`;
    const r = await runOk(process.execPath, ['bin/berth.js', 'cp', `docker://${host(a.url)}/alice/multi:v1`, `docker://${host(dist.url)}/team/multi:v1`, '--all', '--dest-creds', creds], { cwd: REPO_ROOT, env });
    assert.ok(!`${r.stdout}${r.stderr}${refused.stderr}`.includes(dist.password), 'the password is in no output');
    assert.equal(await skopeoDigest(`docker://${host(dist.url)}/team/multi:v1`, creds), multi.indexDigest);
    // or from the environment, out of the process list
    const fromEnv = await run(process.execPath, ['bin/berth.js', 'cp', `docker://${host(a.url)}/alice/multi:v1`, `docker://${host(dist.url)}/team/multi:v2`, '--all'], { cwd: REPO_ROOT, env: { ...env, BERTH_DEST_CREDS: creds } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.equal(await skopeoDigest(`docker://${host(dist.url)}/team/multi:v2`, creds), multi.indexDigest);
  });

  it('continues a copy killed in the middle of a blob, sending only what the registry lacks', async () => {
    const big = await writeSingleArchLayout(path.join(work, 'big'), { tag: 'big', label: 'resume', dataBytes: 96 * 1024 * 1024 });
    const layer = Math.max(...big.image.layerDigests.map((d) => big.image.blobs.get(d)?.length ?? 0));
    const states = path.join(work, 'cache', 'berth', 'uploads');
    await fs.mkdir(states, { recursive: true });
    const args = ['bin/berth.js', 'cp', `oci:${big.dir}:big`, `docker://${host(b.url)}/bob/big:1`, '--json'];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: 'ignore' });
    // Stop it as soon as an upload's state says the registry has part of the layer (a notification, not a poll).
    // The state's temporary file counts too: a kill between its write and its rename must leave nothing that
    // breaks the next copy or stays once it is done. One read half-written (or renamed away) says nothing yet.
    const offsetIn = (text: string): number => {
      try {
        return (JSON.parse(text) as { offset?: number }).offset ?? 0;
      } catch {
        return 0;
      }
    };
    await new Promise<void>((resolve, reject) => {
      const watcher = watch(states, () => {
        void (async () => {
          for (const f of await fs.readdir(states)) {
            const offset = offsetIn(await fs.readFile(path.join(states, f), 'utf8').catch(() => ''));
            if (offset > 0 && offset < layer) {
              child.kill('SIGKILL');
              watcher.close();
              resolve();
              return;
            }
          }
        })();
      });
      child.on('exit', () => {
        watcher.close();
        reject(new Error('the copy ended before it could be interrupted'));
      });
    });
    const resumed = await cp(`oci:${big.dir}:big`, `docker://${host(b.url)}/bob/big:1`);
    assert.equal(resumed.digest, big.image.manifestDigest);
    assert.ok(resumed.bytes > 0 && resumed.bytes < layer, `sent ${resumed.bytes} of the layer's ${layer} bytes`);
    assert.deepEqual(await fs.readdir(states), [], 'no upload is left to resume');
  });
});
