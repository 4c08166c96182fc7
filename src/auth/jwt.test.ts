import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { AuthenticationError } from './errors.ts';
import { TokenService } from './jwt.ts';
import { KeyFiles } from './key-files.ts';
import { SigningKeys } from './keys.ts';
import { parseScope } from './scope.ts';

const settings = { issuer: 'berth', service: 'berth', expiresInSec: 300, clockToleranceSec: 0 };
const pullPush = [parseScope('repository:alice/app:pull,push')];

function tamper(token: string, edit: (claims: Record<string, unknown>) => void): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  edit(claims);
  return [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.');
}

describe('bearer tokens', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true }))));
  async function keyDir(): Promise<string> {
    const d = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-keys-'));
    dirs.push(d);
    return path.join(d, 'keys');
  }

  it('issues a token that verifies, with the access claim Docker reads', async () => {
    const tokens = new TokenService(await SigningKeys.open(undefined), settings);
    const { token, expiresIn } = await tokens.issue('alice', pullPush);
    assert.equal(expiresIn, 300);
    const v = await tokens.verify(token);
    assert.equal(v.subject, 'alice');
    assert.deepEqual([...(v.access.get('repository:alice/app') ?? [])], ['pull', 'push']);
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    assert.deepEqual(claims['access'], [{ type: 'repository', name: 'alice/app', actions: ['pull', 'push'] }]);
    for (const k of ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']) assert.ok(k in claims, k);
  });

  it('refuses tampered, expired, wrongly-signed, wrong-audience and malformed tokens', async () => {
    const keys = await SigningKeys.open(undefined);
    const tokens = new TokenService(keys, settings);
    const { token } = await tokens.issue('alice', pullPush);
    const widened = tamper(token, (c) => (c['access'] = [{ type: 'repository', name: 'bob/secret', actions: ['pull', 'push'] }]));
    const renamed = tamper(token, (c) => (c['sub'] = 'admin'));
    const otherService = await new TokenService(keys, { ...settings, service: 'elsewhere' }).issue('alice', pullPush);
    const otherIssuer = await new TokenService(keys, { ...settings, issuer: 'evil' }).issue('alice', pullPush);
    const foreignKeys = await SigningKeys.open(undefined);
    const foreign = await new TokenService(foreignKeys, settings).issue('alice', pullPush);
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ access: [] })
      .setProtectedHeader({ alg: 'ES256', kid: keys.current.kid })
      .setIssuer('berth')
      .setAudience('berth')
      .setSubject('alice')
      .setIssuedAt(now - 600)
      .setExpirationTime(now - 300)
      .sign(keys.current.privateKey);
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', kid: keys.current.kid })).toString('base64url')}.${token.split('.')[1]}.`;
    const cases: Record<string, string> = {
      widened,
      renamed,
      otherService: otherService.token,
      otherIssuer: otherIssuer.token,
      foreign: foreign.token,
      expired,
      unsigned,
      garbage: 'not.a.token',
      empty: '',
    };
    for (const [name, bad] of Object.entries(cases)) await assert.rejects(tokens.verify(bad), AuthenticationError, name);
    // The genuine token still verifies, also from the cache.
    await tokens.verify(token);
    await tokens.verify(token);
  });

  it('keeps its key on disk (0600), and a rotated key signs while the old one still verifies', async () => {
    const dir = await keyDir();
    const first = await SigningKeys.open(new KeyFiles(dir));
    const kid = first.current.kid;
    const files = await fs.readdir(dir);
    assert.deepEqual(files, [`${kid}.jwk.json`]);
    assert.equal((await fs.stat(path.join(dir, files[0] ?? ''))).mode & 0o777, 0o600);
    assert.equal((await SigningKeys.open(new KeyFiles(dir))).current.kid, kid, 'reopened, the same key');

    const old = await new TokenService(first, settings).issue('alice', pullPush);
    const rotated = await first.rotate();
    assert.notEqual(rotated.kid, kid);
    const reopened = await SigningKeys.open(new KeyFiles(dir));
    assert.equal(reopened.current.kid, rotated.kid, 'the newest key signs');
    assert.deepEqual(reopened.jwks().keys.map((k) => k.kid).sort(), [kid, rotated.kid].sort());
    assert.ok(reopened.jwks().keys.every((k) => k.d === undefined), 'the JWKS holds no private parts');
    const service = new TokenService(reopened, settings);
    await service.verify(old.token);
    const fresh = await service.issue('alice', pullPush);
    assert.equal(JSON.parse(Buffer.from(fresh.token.split('.')[0] ?? '', 'base64url').toString()).kid, rotated.kid);

    assert.deepEqual(await reopened.prune(1), [kid]);
    await assert.rejects(new TokenService(await SigningKeys.open(new KeyFiles(dir)), settings).verify(old.token), AuthenticationError);
  });
});

it('signing keys: a damaged key file is reported and skipped, the others still sign', async () => {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-keys-'));
  try {
    const dir = path.join(d, 'keys');
    const good = await SigningKeys.open(new KeyFiles(dir));
    await fs.writeFile(path.join(dir, 'broken.jwk.json'), '{not json');
    const bad: string[] = [];
    const reopened = await SigningKeys.open(new KeyFiles(dir), (file) => bad.push(file));
    assert.deepEqual(bad, ['broken.jwk.json']);
    assert.equal(reopened.current.kid, good.current.kid);
  } finally {
    await fs.rm(d, { recursive: true, force: true });
  }
});
