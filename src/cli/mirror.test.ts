import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRegistry, type TestRegistry } from '../../test/helpers/inproc.ts';
import { mirror } from './mirror.ts';

function capture(): { write(t: string): void; text: () => string } {
  let text = '';
  return { write: (t) => void (text += t), text: () => text };
}

describe('berth mirror status', () => {
  let plain: TestRegistry;
  let mirroring: TestRegistry;
  before(async () => {
    plain = await startTestRegistry({ storage: 'inmemory' });
    mirroring = await startTestRegistry({
      storage: 'inmemory',
      config: { proxy: { upstreams: [{ name: 'hub', prefix: 'docker.io/', url: plain.url }] } },
    });
  });
  after(async () => {
    await mirroring.stop();
    await plain.stop();
  });

  it('prints each upstream with its counters, as a table or JSON', async () => {
    await fetch(`${mirroring.url}/v2/docker.io/library/none/manifests/latest`);
    const out = capture();
    assert.equal(await mirror(['status', '--url', mirroring.url], out, capture()), 0);
    const [header, row] = out.text().split('\n');
    assert.match(header ?? '', /^UPSTREAM +PREFIX +URL +HITS +MISSES +STALE +ERRORS +FETCHED +SAVED +LAST ERROR$/);
    assert.match(row ?? '', new RegExp(`^hub +docker\\.io/ +${plain.url.replace(/\./g, '\\.')} +0 +0 +0 +0 +0 B +0 B$`));
    const json = capture();
    assert.equal(await mirror(['status', '--url', mirroring.url, '--json'], json, capture()), 0);
    const status = JSON.parse(json.text()) as { upstreams: { name: string; ttlSeconds: number }[] };
    assert.deepEqual(status.upstreams.map((u) => [u.name, u.ttlSeconds]), [['hub', 300]]);
  });

  it('says so when the berth mirrors nothing, is not there, or the command is wrong', async () => {
    const err = capture();
    assert.equal(await mirror(['status', '--url', plain.url], capture(), err), 1);
    assert.match(err.text(), /mirrors no upstream/);
    assert.equal(await mirror(['status', '--url', 'http://127.0.0.1:1'], capture(), capture()), 1);
    assert.equal(await mirror(['stats'], capture(), capture()), 2);
  });
});
