/**
 * Finding 4 of the adversarial review: failed logins were counted per socket address, and past
 * the address's allowance every login from it was refused, so 31 bad logins with made-up names
 * made the administrator's correct password answer 429, and one more bad login per lockout kept it
 * so; behind a reverse proxy that address is everyone's. Now an address past its allowance is
 * slowed down, never refused a correct password (a user's own lock still refuses him), and behind
 * the proxies of `http.trustedproxies` each client counts by its own address from X-Forwarded-For,
 * which nobody else can forge.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAuthRegistry, type AuthRegistry } from '../helpers/auth.ts';
import { basicHeader } from '../helpers/auth-client.ts';
import { SYSTEM } from '../../src/auth/principal.ts';
import type { ConfigInput } from '../../src/config/schema.ts';

const ADMIN = { user: 'admin', password: 'admin-password-1' };
const BOB = { user: 'bob', password: 'bob-password-1' };

/** A registry with an administrator and bob, for the enclosing describe(). */
function useRegistry(config: ConfigInput = {}): () => AuthRegistry {
  let reg: AuthRegistry | undefined;
  before(async () => {
    reg = await startAuthRegistry(config);
    await reg.accounts.createUser(SYSTEM, ADMIN.user, ADMIN.password, true);
    await reg.accounts.createUser(SYSTEM, BOB.user, BOB.password, false);
  });
  after(() => reg?.stop());
  return () => {
    if (reg === undefined) throw new Error('registry not started');
    return reg;
  };
}

/** GET /v2/ with Basic credentials (and an X-Forwarded-For); the status, and Retry-After when refused. */
async function login(reg: AuthRegistry, user: string, password: string, forwardedFor?: string): Promise<{ status: number; retryAfter: string | null }> {
  const headers: Record<string, string> = { authorization: basicHeader({ user, password }) };
  if (forwardedFor !== undefined) headers['x-forwarded-for'] = forwardedFor;
  const res = await fetch(`${reg.url}/v2/`, { headers });
  await res.arrayBuffer();
  return { status: res.status, retryAfter: res.headers.get('retry-after') };
}

describe('one address failing logins', () => {
  const reg = useRegistry();

  it('locks a user who fails at that address past his allowance: refused at once, even his correct password', async () => {
    for (let i = 0; i < 6; i++) assert.equal((await login(reg(), BOB.user, `wrong-${i}`)).status, 401);
    const refused = await login(reg(), BOB.user, BOB.password);
    assert.equal(refused.status, 429);
    assert.match(refused.retryAfter ?? '', /^\d+$/);
  });

  it('cannot lock everybody else at that address out with made-up user names: their correct password is slowed, not refused', async () => {
    // With bob's six failures above, 31 failures from this address: one past its allowance of 30.
    for (let i = 0; i < 25; i++) assert.equal((await login(reg(), `made-up-${i}`, 'guess')).status, 401);
    assert.equal((await login(reg(), ADMIN.user, ADMIN.password)).status, 200, 'the administrator signs in');
    // The attack that kept the lock up: one more bad login per lockout.
    assert.equal((await login(reg(), 'made-up-again', 'guess')).status, 401);
    assert.equal((await login(reg(), ADMIN.user, ADMIN.password)).status, 200, 'still');
  });
});

describe('X-Forwarded-For from a peer that is not a trusted proxy', () => {
  const reg = useRegistry();

  it('is ignored: a new made-up address per guess does not escape the lock', async () => {
    for (let i = 0; i < 6; i++) assert.equal((await login(reg(), BOB.user, `wrong-${i}`, `203.0.113.${i}`)).status, 401);
    assert.equal((await login(reg(), BOB.user, BOB.password, '203.0.113.99')).status, 429);
  });
});

describe('behind a trusted proxy (http.trustedproxies)', () => {
  const reg = useRegistry({ http: { trustedproxies: ['127.0.0.1'] } });

  it('counts each client by its own address: the one the proxy saw, not what the client wrote', async () => {
    for (let i = 0; i < 6; i++) assert.equal((await login(reg(), BOB.user, `wrong-${i}`, `192.0.2.${i}, 203.0.113.7`)).status, 401);
    assert.equal((await login(reg(), BOB.user, BOB.password, '203.0.113.7')).status, 429, 'locked at 203.0.113.7');
    assert.equal((await login(reg(), BOB.user, BOB.password, '192.0.2.1, 203.0.113.8')).status, 200, 'not at 203.0.113.8');
    assert.equal((await login(reg(), BOB.user, BOB.password)).status, 200, 'nor at the proxy');
  });
});
