/**
 * The PostgreSQL backend as the composition root opens it (open-backend.ts from the `database`
 * config): migrated on opening, and the token signing keys shared by every node on the database.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthenticationError } from '../../auth/errors.ts';
import { TokenService } from '../../auth/jwt.ts';
import { SigningKeys } from '../../auth/keys.ts';
import { parseScope } from '../../auth/scope.ts';
import { configSchema } from '../../config/schema.ts';
import { PG_SKIP, pgDatabase } from '../../../test/helpers/pg-database.ts';
import { openBackend } from '../open-backend.ts';

const settings = { issuer: 'berth', service: 'berth', expiresInSec: 300 };
const access = [parseScope('repository:alice/app:pull')];

describe('PostgreSQL backend', { skip: PG_SKIP }, () => {
  it('opens from the database config, and two nodes share signing keys: a token from one verifies on the other', async () => {
    const { url, cleanup } = await pgDatabase();
    const config = configSchema.parse({ database: { enabled: true, url } });
    const [a, b] = [await openBackend(config), await openBackend(config)];
    try {
      assert.ok(a.keys && b.keys, 'PostgreSQL keeps the signing keys');
      const keysA = await SigningKeys.open(a.keys);
      const keysB = await SigningKeys.open(b.keys);
      assert.equal(keysB.current.kid, keysA.current.kid, 'the second node found the first one\'s key instead of making its own');
      const { token } = await new TokenService(keysA, settings).issue('alice', access);
      assert.equal((await new TokenService(keysB, settings).verify(token)).subject, 'alice');

      // a rotation on A (as `berth auth rotate-key` does) reaches B, and a pruned key stops verifying there
      const old = keysA.current.kid;
      const rotated = await keysA.rotate();
      await keysA.prune(1);
      const reopenedB = await SigningKeys.open(b.keys);
      assert.equal(reopenedB.current.kid, rotated.kid);
      assert.equal(reopenedB.find(old), undefined);
      await assert.rejects(new TokenService(reopenedB, settings).verify(token), AuthenticationError);
    } finally {
      await a.close();
      await b.close();
      await cleanup();
    }
  });

  it('a database that cannot be reached fails the opening with the reason', async () => {
    const config = configSchema.parse({ database: { enabled: true, url: 'postgres://berth@127.0.0.1:1/none', connecttimeout: '2s' } });
    await assert.rejects(openBackend(config), /ECONNREFUSED|connect/);
  });
});
