/**
 * The web UI's content API over real HTTP: tag listings (filter, sorts, pages, sizes, platforms),
 * manifest details (image config and history, index platforms, artifact referrers), deleting a tag
 * and a whole repository (with their notifications, and refused when deletes are off), bad
 * parameters and unknown names. Access rules and the admin storage view: api-content-access.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestRegistry, useTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { api } from '../helpers/api.ts';
import { Client, OCI_INDEX, OCI_MANIFEST, type Descriptor } from '../helpers/client.ts';
import { TestReceiver } from '../../src/events/test-receiver.ts';
import { paths } from '../../src/http/routes.ts';
import { CONTENT, IMAGE_CONFIG, pushFixtures, type Fixtures } from '../helpers/content-fixtures.ts';

interface TagJson {
  name: string;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  size: number;
  platforms: { os: string; architecture: string; variant?: string }[];
  pushedAt: string;
}
interface TagsJson {
  total: number;
  page: number;
  perPage: number;
  pages: number;
  tags: TagJson[];
}

const REPO = 'acme/app';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('content API', () => {
  let reg: TestRegistry;
  let receiver: TestReceiver;
  let f: Fixtures;
  const call = (...a: Parameters<ReturnType<typeof api>>) => api(reg.url)(...a);
  const tags = async (query = ''): Promise<TagsJson> => {
    const res = await call('GET', `${paths.apiRepositoryTags(REPO)}${query}`);
    assert.equal(res.status, 200, res.text);
    return res.body as TagsJson;
  };
  const names = async (query: string) => (await tags(query)).tags.map((t) => t.name);
  const detail = async (reference: string) => {
    const res = await call('GET', paths.apiRepositoryManifest(REPO, reference));
    assert.equal(res.status, 200, res.text);
    return res.body as Record<string, unknown>;
  };

  before(async () => {
    receiver = await TestReceiver.start();
    reg = await startTestRegistry({ storage: 'inmemory', config: { notifications: { endpoints: [{ name: 'hook', url: receiver.url, backoff: '10ms' }] } } });
    f = await pushFixtures(new Client(reg.url), REPO);
  });
  after(async () => {
    await reg.stop();
    await receiver.down();
  });

  it('lists tags by name with their sizes, platforms and push times', async () => {
    const all = await tags();
    assert.deepEqual({ ...all, tags: undefined }, { total: 4, page: 1, perPage: 25, pages: 1, tags: undefined });
    const [image, latest, multi, tiny] = all.tags;
    assert.deepEqual({ ...image, pushedAt: undefined }, {
      name: '1.0',
      digest: f.image.digest,
      mediaType: OCI_MANIFEST,
      artifactType: IMAGE_CONFIG,
      size: f.imageSize,
      platforms: [{ os: 'linux', architecture: 'amd64' }],
      pushedAt: undefined,
    });
    assert.match(image?.pushedAt ?? '', ISO);
    assert.equal(latest?.name, 'latest');
    assert.equal(latest?.digest, f.image.digest);
    assert.deepEqual({ ...multi, pushedAt: undefined }, {
      name: 'multi',
      digest: f.index.digest,
      mediaType: OCI_INDEX,
      artifactType: null,
      size: f.indexSize,
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ],
      pushedAt: undefined,
    });
    assert.equal(tiny?.size, f.tinySize);
  });

  it('filters, sorts and pages in the order asked', async () => {
    assert.deepEqual(await names('?q=ti'), ['multi', 'tiny']);
    assert.deepEqual(await names('?q=LAT'), ['latest']);
    assert.deepEqual(await tags('?q=nothing-like-it'), { total: 0, page: 1, perPage: 25, pages: 0, tags: [] });
    assert.deepEqual(await names('?order=desc'), ['tiny', 'multi', 'latest', '1.0']);
    assert.deepEqual(await names('?sort=size'), ['multi', '1.0', 'latest', 'tiny'], 'largest first, ties by name');
    assert.deepEqual(await names('?sort=size&order=asc'), ['tiny', '1.0', 'latest', 'multi']);
    assert.deepEqual(await names('?sort=pushed'), ['tiny', 'multi', 'latest', '1.0'], 'latest push first');
    assert.deepEqual(await names('?sort=pushed&order=asc'), ['1.0', 'latest', 'multi', 'tiny']);
    const second = await tags('?per_page=3&page=2');
    assert.deepEqual({ ...second, tags: second.tags.map((t) => t.name) }, { total: 4, page: 2, perPage: 3, pages: 2, tags: ['tiny'] });
    assert.deepEqual((await tags('?per_page=1000')).perPage, 100, 'per_page is capped');
    assert.deepEqual(await names('?page=9'), []);
  });

  it('refuses bad parameters with 400 REQUEST_INVALID, and names what it accepts', async () => {
    for (const query of ['sort=stars', 'order=up', 'page=-1', 'page=one', 'per_page=1.5', `q=${'x'.repeat(129)}`]) {
      const res = await call('GET', `${paths.apiRepositoryTags(REPO)}?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.code, 'REQUEST_INVALID', query);
    }
    const res = await call('GET', `${paths.apiRepositoryTags(REPO)}?sort=stars`);
    assert.match(res.text, /sort must be one of name, pushed, size/);
  });

  it('answers unknown repositories with NAME_UNKNOWN and unknown manifests with MANIFEST_UNKNOWN', async () => {
    const none = await call('GET', paths.apiRepositoryTags('acme/none'));
    assert.equal(none.status, 404);
    assert.equal(none.code, 'NAME_UNKNOWN');
    for (const reference of ['nope', `sha256:${'0'.repeat(64)}`]) {
      const res = await call('GET', paths.apiRepositoryManifest(REPO, reference));
      assert.equal(res.status, 404, reference);
      assert.equal(res.code, 'MANIFEST_UNKNOWN', reference);
    }
    assert.equal((await call('GET', paths.apiRepositoryManifest(REPO, '-bad-'))).status, 400);
  });

  it('details an image: config, layers, history, tags, referrers and total size', async () => {
    const d = await detail('1.0');
    assert.deepEqual(
      { ...d, manifest: undefined, createdAt: undefined, referrers: undefined },
      {
        name: REPO,
        reference: '1.0',
        digest: f.image.digest,
        mediaType: OCI_MANIFEST,
        artifactType: IMAGE_CONFIG,
        size: f.image.size,
        totalSize: f.imageSize,
        tags: ['1.0', 'latest'],
        createdAt: undefined,
        kind: 'image',
        manifest: undefined,
        annotations: { 'org.opencontainers.image.version': '1.0' },
        config: { digest: f.config.digest, mediaType: IMAGE_CONFIG, size: f.config.size, ...CONTENT.summary },
        layers: f.layers.map(({ digest, mediaType, size }) => ({ digest, mediaType, size })),
        history: CONTENT.history,
        referrers: undefined,
      },
    );
    assert.match(String(d['createdAt']), ISO);
    assert.deepEqual(d['manifest'], JSON.parse(f.imageBody));
    const referrers = d['referrers'] as Record<string, unknown>[];
    assert.deepEqual(
      referrers.map((r) => ({ ...r, createdAt: undefined })),
      [
        {
          digest: f.signature.digest,
          mediaType: OCI_MANIFEST,
          artifactType: 'application/vnd.example.signature',
          size: f.signature.size,
          annotations: { 'org.example.signer': 'ops' },
          createdAt: undefined,
        },
      ],
    );
    assert.match(String(referrers[0]?.['createdAt']), ISO);
    assert.equal((await detail(f.image.digest))['reference'], f.image.digest, 'by digest too');
  });

  it('details an index with its platforms, and an artifact without a config section', async () => {
    const ix = await detail('multi');
    assert.equal(ix['kind'], 'index');
    assert.equal(ix['totalSize'], f.indexSize);
    // Each platform: its manifest's size (size), and its image's (totalSize: manifest, config and layers, as its own detail says).
    const amd64Size = (await detail(f.amd64.digest))['totalSize'];
    const arm64Size = (await detail(f.arm64.digest))['totalSize'];
    assert.ok(typeof amd64Size === 'number' && amd64Size > f.amd64.size + 1000, `the amd64 image holds the base layer: ${amd64Size}`);
    assert.deepEqual(ix['platforms'], [
      { digest: f.amd64.digest, mediaType: OCI_MANIFEST, size: f.amd64.size, totalSize: amd64Size, platform: { os: 'linux', architecture: 'amd64' } },
      { digest: f.arm64.digest, mediaType: OCI_MANIFEST, size: f.arm64.size, totalSize: arm64Size, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ]);
    for (const key of ['config', 'layers', 'history', 'subject']) assert.equal(ix[key], undefined, key);

    const sig = await detail(f.signature.digest);
    assert.equal(sig['kind'], 'artifact');
    assert.equal(sig['subject'], f.image.digest);
    assert.equal(sig['artifactType'], 'application/vnd.example.signature');
    assert.equal(sig['config'], undefined);
    assert.equal(sig['history'], undefined);
    assert.deepEqual(sig['tags'], []);
    assert.equal((sig['layers'] as Descriptor[]).length, 1);
    assert.deepEqual(sig['referrers'], []);
  });

  it('deletes a tag only: the manifest stays reachable by digest', async () => {
    const seen = receiver.accepted.length;
    const res = await call('DELETE', paths.apiRepositoryTag(REPO, 'latest'));
    assert.equal(res.status, 204, res.text);
    assert.deepEqual(await names(''), ['1.0', 'multi', 'tiny']);
    assert.equal((await fetch(`${reg.url}/v2/${REPO}/manifests/${f.image.digest}`, { headers: { accept: OCI_MANIFEST } })).status, 200);
    assert.deepEqual((await detail('1.0'))['tags'], ['1.0']);
    const again = await call('DELETE', paths.apiRepositoryTag(REPO, 'latest'));
    assert.equal(again.status, 404);
    assert.equal(again.code, 'MANIFEST_UNKNOWN');
    const digest = await call('DELETE', paths.apiRepositoryTag(REPO, f.image.digest));
    assert.equal(digest.status, 400, 'a digest is no tag');
    assert.equal((await fetch(`${reg.url}/v2/${REPO}/manifests/${f.image.digest}`, { method: 'HEAD' })).status, 200);
    await receiver.waitFor('the tag delete event', () => receiver.accepted.length > seen);
    const event = receiver.accepted[seen];
    assert.deepEqual([event?.action, event?.target.repository, event?.target.tag], ['delete', REPO, 'latest']);
  });

  it('deletes a repository: every manifest and tag, one delete event each', async () => {
    const seen = receiver.accepted.length;
    const res = await call('DELETE', paths.apiRepository(REPO));
    assert.equal(res.status, 204, res.text);
    const catalog = (await (await fetch(`${reg.url}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.ok(!catalog.repositories.includes(REPO), catalog.repositories.join());
    const gone = await call('GET', paths.apiRepositoryTags(REPO));
    assert.equal(gone.status, 404);
    assert.equal(gone.code, 'NAME_UNKNOWN');
    assert.equal((await call('GET', paths.apiRepositoryManifest(REPO, f.image.digest))).code, 'MANIFEST_UNKNOWN');
    await receiver.waitFor('the manifest delete events', () => receiver.accepted.length >= seen + f.manifests.length);
    const deleted = receiver.accepted.slice(seen).map((e) => `${e.action} ${e.target.repository} ${e.target.digest}`);
    assert.deepEqual(deleted.sort(), f.manifests.map((m) => `delete ${REPO} ${m}`).sort());
    const again = await call('DELETE', paths.apiRepository(REPO));
    assert.equal(again.status, 404);
    assert.equal(again.code, 'NAME_UNKNOWN');
  });
});

describe('content API with deletes disabled', () => {
  const t = useTestRegistry({ storage: 'inmemory', config: { storage: { delete: { enabled: false } } } });

  it('refuses to delete a tag or a repository with 405 UNSUPPORTED, and keeps them', async () => {
    await t.client.pushImage('nd/app', 'v1');
    const call = api(t.reg.url);
    for (const path of [paths.apiRepositoryTag('nd/app', 'v1'), paths.apiRepository('nd/app')]) {
      const res = await call('DELETE', path);
      assert.equal(res.status, 405, path);
      assert.equal(res.code, 'UNSUPPORTED');
    }
    assert.deepEqual(((await call('GET', paths.apiRepositoryTags('nd/app'))).body as TagsJson).tags.map((x) => x.name), ['v1']);
  });
});
