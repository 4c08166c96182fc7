/**
 * When a repository was created and last changed, over real HTTP on an open registry (no users):
 * the repository API and search (its results, a namespace's listing, the "recently pushed" sort)
 * say the same, created is the first push and updated the last push, tag move or tag delete, and
 * changing the settings moves neither (issue 13, item 7: the repository page said "Created –" until
 * someone edited the settings, then the edit's time, while search said the last push's).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useTestRegistry } from '../helpers/inproc.ts';
import { api } from '../helpers/api.ts';
import { paths } from '../../src/http/routes.ts';

const REPO = 'alice/app';

interface Times {
  createdAt: string | null;
  updatedAt: string | null;
}

const pause = () => new Promise((r) => setTimeout(r, 5));
const ms = (iso: string | null | undefined) => (iso === null || iso === undefined ? Number.NaN : Date.parse(iso));

describe('repository times', () => {
  const t = useTestRegistry({ storage: 'inmemory' });
  const call = (...a: Parameters<ReturnType<typeof api>>) => api(t.reg.url)(...a);

  /** The repository API's times, after checking that every search view says the same updatedAt. */
  const times = async (): Promise<Times> => {
    const res = await call('GET', paths.apiRepository(REPO));
    assert.equal(res.status, 200, res.text);
    const repo = res.body as Times;
    for (const query of ['q=app', 'namespace=alice', 'sort=updated']) {
      const found = await call('GET', `/api/v1/search?${query}`);
      assert.equal(found.status, 200, found.text);
      const hit = (found.body as { results: ({ name: string } & Times)[] }).results.find((r) => r.name === REPO);
      assert.equal(hit?.updatedAt, repo.updatedAt, `/api/v1/search?${query} and the repository API`);
    }
    return { createdAt: repo.createdAt, updatedAt: repo.updatedAt };
  };

  /** Runs `fn` and returns the window of times it ran in. */
  const during = async (fn: () => Promise<unknown>): Promise<[number, number]> => {
    await pause();
    const start = Date.now();
    await fn();
    const end = Date.now();
    await pause();
    return [start, end];
  };
  const within = (iso: string | null, [start, end]: [number, number], what: string) =>
    assert.ok(ms(iso) >= start && ms(iso) <= end, `${what}: ${iso} is not within the step (${new Date(start).toISOString()} .. ${new Date(end).toISOString()})`);

  it('created is the first push, updated the last push or tag change, the same in the repository API and search', async () => {
    const first = await during(() => t.client.pushImage(REPO, 'v1'));
    const pushed = await times();
    within(pushed.createdAt, first, 'created: the first push');
    within(pushed.updatedAt, first, 'updated: the first push');

    const second = await during(() => t.client.pushImage(REPO, 'v2', { layer: 'another layer' }));
    const again = await times();
    assert.equal(again.createdAt, pushed.createdAt, 'a second push does not move created');
    within(again.updatedAt, second, 'updated: the second push');

    const moved = await during(async () => {
      const manifest = await t.client.fetch(`/v2/${REPO}/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      const res = await t.client.putManifest(REPO, 'v2', JSON.parse(await manifest.text()) as object, 'application/vnd.oci.image.manifest.v1+json');
      assert.equal(res.status, 201);
    });
    const retagged = await times();
    assert.equal(retagged.createdAt, pushed.createdAt);
    within(retagged.updatedAt, moved, 'updated: v2 moved onto v1');

    const deleted = await during(async () => assert.equal((await call('DELETE', paths.apiRepositoryTag(REPO, 'v2'))).status, 204));
    const untagged = await times();
    assert.equal(untagged.createdAt, pushed.createdAt);
    within(untagged.updatedAt, deleted, 'updated: the tag delete');
  });

  it('changing the settings moves neither time', async () => {
    const before = await times();
    assert.notEqual(before.createdAt, null);
    await pause();
    const described = await call('PATCH', paths.apiRepository(REPO), { body: { description: 'An app' } });
    assert.equal(described.status, 200, described.text);
    assert.deepEqual({ createdAt: (described.body as Times).createdAt, updatedAt: (described.body as Times).updatedAt }, before);
    const hidden = await call('PATCH', paths.apiRepository(REPO), { body: { visibility: 'private' } });
    assert.equal(hidden.status, 200, hidden.text);
    assert.deepEqual({ createdAt: (hidden.body as Times).createdAt, updatedAt: (hidden.body as Times).updatedAt }, before);
    assert.deepEqual(await times(), before);
  });
});
