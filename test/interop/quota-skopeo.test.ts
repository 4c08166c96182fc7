/**
 * A real client meets a quota (issue 15): skopeo copies an image into a namespace whose limit is
 * smaller than the image, is refused, and shows the registry's message with used and limit;
 * after an administrator's raise (the API), the same copy goes through.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeSingleArchLayout, type SingleArchLayout } from '../fixtures/oci.ts';
import { headManifest, requireTools, run, startBerth, tempDir, type BerthProcess } from '../helpers/process.ts';

const tools = requireTools('skopeo');

describe('skopeo and quotas', () => {
  let server: BerthProcess;
  let work: string;
  let image: SingleArchLayout;

  before(async () => {
    if (tools.skip !== false) return;
    tools.check();
    server = await startBerth({ env: { REGISTRY_ACCESS_QUOTA_DEFAULT: '1KiB' } });
    work = await tempDir('skopeo-quota');
    image = await writeSingleArchLayout(join(work, 'img'), { tag: '1.0', label: 'quota' });
  });

  after(async () => {
    await server?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('a push over the quota fails with the message visible; raised, it succeeds', { skip: tools.skip }, async () => {
    const copy = () => run('skopeo', ['copy', '--dest-tls-verify=false', `oci:${image.dir}:1.0`, `docker://${server.host}/alice/app:1.0`]);
    const refused = await copy();
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /denied: namespace alice is over its quota: it holds \d+ B of 1 KiB \(\d+ of 1024 bytes\), and this \w+ adds \d+/, refused.stderr);
    console.log(`# skopeo said: ${refused.stderr.trim().split('\n').at(-1)}`);
    assert.equal((await headManifest(server, 'alice/app', '1.0')).status, 404);

    const raised = await fetch(`${server.url}/api/v1/namespaces/alice/quota`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ limit: '1MiB' }) });
    assert.equal(raised.status, 200, await raised.text());
    const done = await copy();
    assert.equal(done.code, 0, done.stderr);
    assert.equal((await headManifest(server, 'alice/app', '1.0')).digest, image.image.manifestDigest);
  });
});
