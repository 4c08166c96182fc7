/**
 * `berth import` on a root written by the real thing: Debian's `docker-registry` (distribution
 * 2.8.2) on filesystem storage, given real pushes by skopeo (an OCI image, the same image as Docker
 * schema2, a multi-arch OCI index, the same index as a Docker manifest list, an OCI artifact whose
 * subject is the image), one tag deleted and one upload left half done. Imported into a fresh
 * berth with hard links; berth then serves every tag with the digest that was pushed (skopeo
 * inspect --raw and skopeo copy --all), the referrer under its subject, not the deleted tag; an
 * import beside the serving berth takes what registry:2 received since, and the next one imports
 * nothing and says so.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ImportSummary } from '../../src/lifecycle/import/import.ts';
import { runBerth } from '../../src/cli/test-support.ts';
import { MT, writeMultiArchLayout, writeSingleArchLayout, type SingleArchLayout } from '../fixtures/oci.ts';
import { basicAuth, startDistribution, type Distribution } from '../helpers/mirror.ts';
import { requireTools, runOk, startBerth, tempDir, type BerthProcess, type RunResult } from '../helpers/process.ts';

const tools = requireTools('docker-registry', 'skopeo');

const ACCEPT = [MT.ociIndex, MT.ociManifest, MT.dockerList, MT.dockerManifest].join(', ');

function sha256(text: string | Buffer): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** An OCI layout holding one artifact manifest (tag `sig`) whose subject is `subject`'s image. */
async function writeArtifactLayout(dir: string, subject: SingleArchLayout): Promise<{ digest: string; size: number }> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = async (bytes: Buffer): Promise<{ digest: string; size: number }> => {
    const digest = sha256(bytes);
    await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { digest, size: bytes.length };
  };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      artifactType: 'application/vnd.example.signature',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', ...(await put(Buffer.from('{}'))) },
      layers: [{ mediaType: 'application/vnd.example.signature.v1+json', ...(await put(Buffer.from('{"signed":"import"}'))) }],
      subject: { mediaType: MT.ociManifest, digest: subject.image.manifestDigest, size: subject.image.manifestSize },
      annotations: { 'org.example.signed-by': 'import-test' },
    }),
  );
  const m = await put(manifest);
  const ref = { 'org.opencontainers.image.ref.name': 'sig' };
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MT.ociManifest, ...m, annotations: ref }] }));
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  return m;
}

describe('berth import of a distribution 2.8.2 root', { skip: tools.skip }, () => {
  let work: string;
  let dist: Distribution;
  let berth: BerthProcess | undefined;
  let berthRoot: string;
  let single: SingleArchLayout;
  let signature: { digest: string; size: number };
  /** `repo:tag` -> the digest distribution served for it. */
  const pushed = new Map<string, string>();
  let gone: string;
  let first: ImportSummary;

  const skopeo = (...args: string[]): Promise<RunResult> => runOk('skopeo', args, { timeout: 30_000 });
  const host = (url: string): string => url.replace(/^http:\/\//, '');
  const digestAt = async (url: string, repo: string, ref: string, headers: Record<string, string> = {}): Promise<{ status: number; digest: string | null }> => {
    const res = await fetch(`${url}/v2/${repo}/manifests/${ref}`, { method: 'HEAD', headers: { accept: ACCEPT, ...headers } });
    return { status: res.status, digest: res.headers.get('docker-content-digest') };
  };
  const berthEnv = (): Record<string, string> => ({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: berthRoot });

  before(async () => {
    tools.check();
    work = await tempDir('import');
    berthRoot = join(work, 'berth');
    single = await writeSingleArchLayout(join(work, 'single'), { tag: '1.0', label: 'import' });
    await writeMultiArchLayout(join(work, 'multi'), { tag: '2.0', label: 'import-multi' });
    await writeSingleArchLayout(join(work, 'gone'), { tag: '1.0', label: 'import-gone' });
    signature = await writeArtifactLayout(join(work, 'sig'), single);

    dist = await startDistribution();
    const creds = `--dest-creds=${dist.user}:${dist.password}`;
    const to = (ref: string): string => `docker://${host(dist.url)}/${ref}`;
    const copy = (...args: string[]): Promise<RunResult> => skopeo('copy', '-q', '--dest-tls-verify=false', creds, ...args);
    await copy(`oci:${join(work, 'single')}:1.0`, to('alice/app:1.0'));
    await copy('--format', 'v2s2', `oci:${join(work, 'single')}:1.0`, to('alice/app:docker'));
    await copy('--all', `oci:${join(work, 'multi')}:2.0`, to('lib/multi:2.0'));
    await copy('--all', '--format', 'v2s2', `oci:${join(work, 'multi')}:2.0`, to('lib/multi:list'));
    await copy(`oci:${join(work, 'sig')}:sig`, to('alice/app:sig'));
    await copy(`oci:${join(work, 'gone')}:1.0`, to('alice/app:gone'));
    const auth = basicAuth(dist.user, dist.password);
    for (const ref of ['alice/app:1.0', 'alice/app:docker', 'alice/app:sig', 'lib/multi:2.0', 'lib/multi:list']) {
      const [repo = '', tag = ''] = ref.split(':');
      const { status, digest } = await digestAt(dist.url, repo, tag, auth);
      assert.equal(status, 200, ref);
      pushed.set(ref, digest ?? '');
    }
    gone = (await digestAt(dist.url, 'alice/app', 'gone', auth)).digest ?? '';
    // delete a tag there: skopeo deletes the manifest it names, and distribution the tag with it
    await skopeo('delete', '--tls-verify=false', `--creds=${dist.user}:${dist.password}`, to('alice/app:gone'));
    assert.equal((await digestAt(dist.url, 'alice/app', 'gone', auth)).status, 404);
    // leave an upload half done
    const start = await fetch(`${dist.url}/v2/alice/app/blobs/uploads/`, { method: 'POST', headers: auth });
    assert.equal(start.status, 202);
    const patch = await fetch(new URL(start.headers.get('location') ?? '', dist.url), {
      method: 'PATCH',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: 'half of a blob',
    });
    assert.equal(patch.status, 202);
    await dist.kill('SIGTERM');

    const r = await runBerth(['import', join(dist.root, 'data'), '--json'], berthEnv());
    assert.equal(r.code, 0, r.stderr + r.stdout);
    first = JSON.parse(r.stdout) as ImportSummary;
    berth = await startBerth({ root: berthRoot });
  });

  after(async () => {
    await berth?.stop();
    await dist?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('imports every repository, tag and manifest, hard-linking the blobs, and leaves the upload and the deleted manifest behind', async () => {
    assert.deepEqual(first.skipped, []);
    assert.equal(first.transfer, 'link');
    assert.deepEqual(first.repositories, { found: 2, imported: 2, present: 0, skipped: 0 });
    assert.deepEqual(first.tags, { found: 5, imported: 5, present: 0, skipped: 0 });
    assert.equal(first.manifests.imported, first.manifests.found);
    assert.equal(first.blobs.copied, 0);
    assert.equal(first.blobs.linked, first.blobs.found);
    assert.equal(first.uploadsSkipped, 1);
    assert.equal(first.unreferencedBlobs, 1, "the deleted manifest's bytes, which registry:2's garbage-collect would remove");
    const hex = (pushed.get('alice/app:1.0') ?? '').slice(7);
    const linked = await stat(join(berthRoot, 'blobs', 'sha256', hex.slice(0, 2), hex));
    assert.ok(linked.nlink >= 2, 'a hard link, not a copy');
  });

  it('serves every tag with the digest that was pushed (skopeo inspect --raw)', async () => {
    assert.ok(berth !== undefined);
    for (const [ref, digest] of pushed) {
      const raw: string = (await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${berth.host}/${ref}`)).stdout;
      assert.equal(sha256(raw), digest, ref);
    }
    assert.equal((await digestAt(berth.url, 'alice/app', 'gone')).status, 404);
    assert.equal((await digestAt(berth.url, 'alice/app', gone)).status, 404);
    const tags = (await (await fetch(`${berth.url}/v2/alice/app/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['1.0', 'docker', 'sig']);
  });

  it('serves every blob: skopeo copy --all of the index and the manifest list, digests kept', async () => {
    assert.ok(berth !== undefined);
    for (const tag of ['2.0', 'list']) {
      const out = join(work, `pulled-${tag}`);
      await skopeo('copy', '-q', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${berth.host}/lib/multi:${tag}`, `dir:${out}`);
      assert.equal(sha256(await readFile(join(out, 'manifest.json'))), pushed.get(`lib/multi:${tag}`));
    }
  });

  it('lists the artifact under its subject (referrers) with its artifactType and annotations', async () => {
    assert.ok(berth !== undefined);
    const res = await fetch(`${berth.url}/v2/alice/app/referrers/${single.image.manifestDigest}`);
    assert.equal(res.status, 200);
    const index = (await res.json()) as { manifests: unknown[] };
    assert.deepEqual(index.manifests, [
      {
        mediaType: MT.ociManifest,
        ...signature,
        artifactType: 'application/vnd.example.signature',
        annotations: { 'org.example.signed-by': 'import-test' },
      },
    ]);
    assert.equal(pushed.get('alice/app:sig'), signature.digest);
  });

  it('imports what registry:2 took since, beside the serving berth', async () => {
    assert.ok(berth !== undefined);
    await dist.restart();
    await skopeo('copy', '-q', '--dest-tls-verify=false', `--dest-creds=${dist.user}:${dist.password}`, `oci:${join(work, 'gone')}:1.0`, `docker://${host(dist.url)}/alice/app:later`);
    await dist.kill('SIGTERM');
    const r = await runBerth(['import', join(dist.root, 'data'), '--json'], berthEnv());
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const s = JSON.parse(r.stdout) as ImportSummary;
    assert.deepEqual([s.tags.imported, s.manifests.imported, s.blobs.linked], [1, 1, 1]);
    assert.deepEqual(await digestAt(berth.url, 'alice/app', 'later'), { status: 200, digest: gone });
  });

  it('imports nothing new the next time, and says so', async () => {
    const text = await runBerth(['import', join(dist.root, 'data')], berthEnv());
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /nothing new: berth already holds everything from /);
    const again = await runBerth(['import', join(dist.root, 'data'), '--json'], berthEnv());
    const s = JSON.parse(again.stdout) as ImportSummary;
    assert.equal(s.upToDate, true);
    assert.equal(s.blobs.linked + s.blobs.copied + s.blobs.moved, 0);
    assert.equal(s.blobs.present, s.blobs.found);
    for (const c of [s.repositories, s.tags, s.manifests, s.layerLinks]) assert.equal(c.imported, 0);
    assert.equal(s.tags.present, 6);
  });
});
