import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRunnablePlatform, parseImageConfig, platformOf } from './image-config.ts';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('image config', () => {
  it('reads what the image runs, where, and how it was built', () => {
    const config = parseImageConfig(
      json({
        created: '2026-01-02T03:04:05Z',
        author: 'ops@example.com',
        architecture: 'arm64',
        os: 'linux',
        variant: 'v8',
        config: {
          Entrypoint: ['/bin/app'],
          Cmd: ['--serve'],
          Env: ['PATH=/usr/bin', 'MODE=prod'],
          WorkingDir: '/srv',
          User: 'app',
          Labels: { 'org.opencontainers.image.title': 'app' },
          ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
          Volumes: { '/data': {} },
          StopSignal: 'SIGTERM',
        },
        rootfs: { type: 'layers', diff_ids: [] },
        history: [
          { created: '2026-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:1 in /', comment: 'base' },
          { created_by: 'ENV MODE=prod', empty_layer: true, author: 'ops' },
        ],
      }),
    );
    assert.deepEqual(config?.summary, {
      created: '2026-01-02T03:04:05Z',
      author: 'ops@example.com',
      os: 'linux',
      architecture: 'arm64',
      variant: 'v8',
      entrypoint: ['/bin/app'],
      cmd: ['--serve'],
      env: ['PATH=/usr/bin', 'MODE=prod'],
      workingDir: '/srv',
      user: 'app',
      labels: { 'org.opencontainers.image.title': 'app' },
      exposedPorts: ['8080/tcp', '53/udp'],
      volumes: ['/data'],
      stopSignal: 'SIGTERM',
    });
    assert.deepEqual(config?.history, [
      { created: '2026-01-01T00:00:00Z', createdBy: '/bin/sh -c #(nop) ADD file:1 in /', comment: 'base', emptyLayer: false },
      { createdBy: 'ENV MODE=prod', author: 'ops', emptyLayer: true },
    ]);
    assert.deepEqual(config?.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
  });

  it('leaves out fields of the wrong type, empty ones and nulls, as Docker writes them', () => {
    const config = parseImageConfig(
      json({
        os: 'linux',
        architecture: 7,
        config: { Entrypoint: null, Cmd: ['ok', 1], Env: 'PATH=/bin', WorkingDir: '', User: '', Labels: { a: 'b', n: 1 }, ExposedPorts: null },
        history: [null, 'text', { empty_layer: 'yes' }],
      }),
    );
    assert.deepEqual(config?.summary, { os: 'linux', labels: { a: 'b' } });
    assert.deepEqual(config?.history, [{ emptyLayer: false }]);
    assert.equal(config?.platform, undefined, 'no platform without an architecture');
  });

  it('is no config when the blob is not a JSON object', () => {
    assert.equal(parseImageConfig(Buffer.from('not json')), undefined);
    assert.equal(parseImageConfig(json([1, 2])), undefined);
    assert.equal(parseImageConfig(json('text')), undefined);
    assert.equal(parseImageConfig(Buffer.from([0xff, 0xfe, 0x00])), undefined);
    assert.deepEqual(parseImageConfig(json({})), { summary: {}, history: [], platform: undefined });
  });

  it('tells platforms, and attestation entries (unknown/unknown) from runnable ones', () => {
    assert.deepEqual(platformOf({ os: 'windows', architecture: 'amd64' }), { os: 'windows', architecture: 'amd64' });
    assert.equal(isRunnablePlatform({ os: 'unknown', architecture: 'unknown' }), false);
    assert.equal(isRunnablePlatform({ os: 'linux', architecture: 'unknown' }), true);
    assert.equal(isRunnablePlatform(undefined), false);
  });
});
