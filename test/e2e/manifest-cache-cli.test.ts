/**
 * A running `berth serve` answers manifest GETs from memory; `berth repo delete` in another
 * process beside it, on the same SQLite meta store, must be seen by the very next request:
 * the tag and the digest it served a moment before answer 404.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useServerBesideCli } from '../helpers/beside-cli.ts';
import { OCI_MANIFEST } from '../helpers/client.ts';

describe('the manifest cache of a running server beside the berth CLI', () => {
  const cli = useServerBesideCli();

  const status = async (reference: string): Promise<number> => {
    const res = await cli.client.fetch(`/v2/r/app/manifests/${reference}`, { headers: { Accept: OCI_MANIFEST } });
    await res.arrayBuffer();
    return res.status;
  };

  it('answers 404 for a tag and a digest it served from memory, once berth repo delete has removed them', async () => {
    const { descriptor } = await cli.client.pushImage('r/app', 'latest');
    for (let i = 0; i < 20; i++) {
      assert.equal(await status('latest'), 200);
      assert.equal(await status(descriptor.digest), 200);
    }
    // GETs all the while the command starts and runs
    const res = await cli.beside(['repo', 'delete', 'r/app'], () => status('latest'));
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.equal(await status('latest'), 404, 'the tag');
    assert.equal(await status(descriptor.digest), 404, 'the digest');
    const head = await cli.client.fetch(`/v2/r/app/manifests/latest`, { method: 'HEAD', headers: { Accept: OCI_MANIFEST } });
    assert.equal(head.status, 404, 'HEAD of the tag');
  });
});
