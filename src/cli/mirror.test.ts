import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRegistry, type TestRegistry } from '../../test/helpers/inproc.ts';
import { runBerth } from './test-support.ts';

const mirror = (...argv: string[]) => runBerth(['mirror', ...argv]);

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
    const table = await mirror('status', '--url', mirroring.url);
    assert.equal(table.code, 0, table.stderr);
    const [header, row] = table.stdout.split('\n');
    assert.match(header ?? '', /^UPSTREAM +PREFIX +URL +HITS +MISSES +STALE +ERRORS +FETCHED +SAVED +LAST ERROR$/);
    assert.match(row ?? '', new RegExp(`^hub +docker\\.io/ +${plain.url.replace(/\./g, '\\.')} +0 +0 +0 +0 +0 B +0 B$`));
    const json = await mirror('status', '--url', mirroring.url, '--json');
    assert.equal(json.code, 0, json.stderr);
    const status = JSON.parse(json.stdout) as { upstreams: { name: string; ttlSeconds: number }[] };
    assert.deepEqual(status.upstreams.map((u) => [u.name, u.ttlSeconds]), [['hub', 300]]);
  });

  it('says so when the berth mirrors nothing, is not there, or the command is wrong', async () => {
    const plainStatus = await mirror('status', '--url', plain.url);
    assert.equal(plainStatus.code, 1);
    assert.match(plainStatus.stderr, /^berth mirror: the berth at \S+ mirrors no upstream .*\n$/);
    const unreachable = await mirror('status', '--url', 'http://127.0.0.1:1');
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /^berth mirror: cannot reach berth at http:\/\/127\.0\.0\.1:1: .*\n$/);
    const wrong = await mirror('stats');
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /^berth mirror: unknown subcommand "stats" \(status\)\nusage: berth mirror status /);
  });
});
