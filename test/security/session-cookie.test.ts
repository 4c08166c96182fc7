/**
 * Finding 5 of the adversarial review: over HTTPS the session cookie is `__Host-berth_session`
 * (this host only, path /), but a plain `berth_session` was read too, and first: a sibling
 * subdomain could set one (`Domain=`) and sign the victim's browser into the attacker's session.
 * Now, where the cookie is `__Host-` (HTTPS at the root path), only that name counts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAuthRegistry, type AuthRegistry } from '../helpers/auth.ts';
import { which } from '../helpers/process.ts';
import { SYSTEM } from '../../src/auth/principal.ts';
import type { ConfigInput } from '../../src/config/schema.ts';

const ALICE = { user: 'alice', password: 'alice-password-1' };
const MALLORY = { user: 'mallory', password: 'mallory-password-1' };
const HTTPS_PROXY = { 'x-forwarded-proto': 'https' };

interface Answer {
  status: number;
  setCookie: string;
  body: unknown;
}

/** A request over HTTP, or over HTTPS trusting `ca`. */
type Call = (urlPath: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => Promise<Answer>;

function httpCall(base: () => string): Call {
  return async (urlPath, init = {}) => {
    const res = await fetch(base() + urlPath, init);
    const text = await res.text();
    return { status: res.status, setCookie: res.headers.get('set-cookie') ?? '', body: text === '' ? null : (JSON.parse(text) as unknown) };
  };
}

function httpsCall(base: () => string, ca: () => Buffer): Call {
  return (urlPath, init = {}) =>
    new Promise((resolve, reject) => {
      const req = https.request(`${base().replace('http:', 'https:')}${urlPath}`, { method: init.method ?? 'GET', headers: init.headers, ca: ca() }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie']?.[0] ?? '', body: JSON.parse(text) as unknown }));
      });
      req.on('error', reject);
      req.end(init.body);
    });
}

async function signIn(call: Call, who: { user: string; password: string }, headers: Record<string, string> = {}): Promise<{ name: string; secret: string; setCookie: string }> {
  const res = await call('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ username: who.user, password: who.password }) });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const [name = '', secret = ''] = (res.setCookie.split(';')[0] ?? '').split('=');
  return { name, secret, setCookie: res.setCookie };
}

async function signedIn(call: Call, cookie: string, headers: Record<string, string> = {}): Promise<string | null> {
  const res = await call('/api/v1/session', { headers: { cookie, ...headers } });
  assert.equal(res.status, 200);
  return (res.body as { user: { name: string } | null }).user?.name ?? null;
}

/** A registry with alice and mallory for the enclosing describe(), its config made when it starts. */
function useRegistry(config: () => ConfigInput = () => ({})): () => AuthRegistry {
  let reg: AuthRegistry | undefined;
  before(async () => {
    reg = await startAuthRegistry(config());
    await reg.accounts.createUser(SYSTEM, ALICE.user, ALICE.password, false);
    await reg.accounts.createUser(SYSTEM, MALLORY.user, MALLORY.password, false);
  });
  after(() => reg?.stop());
  return () => {
    if (reg === undefined) throw new Error('registry not started');
    return reg;
  };
}

describe('the session cookie behind an HTTPS proxy', () => {
  const reg = useRegistry();
  const call = httpCall(() => reg().url);

  it('reads only __Host-berth_session: a planted berth_session neither wins nor signs anyone in', async () => {
    const alice = await signIn(call, ALICE, HTTPS_PROXY);
    const mallory = await signIn(call, MALLORY, HTTPS_PROXY);
    assert.equal(alice.name, '__Host-berth_session');
    assert.equal(await signedIn(call, `berth_session=${mallory.secret}; __Host-berth_session=${alice.secret}`, HTTPS_PROXY), 'alice');
    assert.equal(await signedIn(call, `__Host-berth_session=${alice.secret}; berth_session=${mallory.secret}`, HTTPS_PROXY), 'alice');
    assert.equal(await signedIn(call, `berth_session=${mallory.secret}`, HTTPS_PROXY), null);
  });

  it('gives the page the CSRF token of the session it reads', async () => {
    const alice = await signIn(call, ALICE, HTTPS_PROXY);
    const mallory = await signIn(call, MALLORY, HTTPS_PROXY);
    const cookie = `berth_session=${mallory.secret}; __Host-berth_session=${alice.secret}`;
    const res = await call('/api/v1/session', { headers: { cookie, ...HTTPS_PROXY } });
    const { csrfToken } = res.body as { csrfToken: string };
    const change = await call('/api/v1/session', { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrfToken, ...HTTPS_PROXY } });
    assert.equal(change.status, 204, 'alice signs out with the token the page was given');
    assert.equal(await signedIn(call, `__Host-berth_session=${alice.secret}`, HTTPS_PROXY), null);
    assert.equal(await signedIn(call, `__Host-berth_session=${mallory.secret}`, HTTPS_PROXY), 'mallory', "mallory's own session is untouched");
  });

  it('over plain HTTP keeps reading berth_session (and prefers __Host- when a browser sends it)', async () => {
    const mallory = await signIn(call, MALLORY);
    const alice = await signIn(call, ALICE, HTTPS_PROXY);
    assert.equal(mallory.name, 'berth_session');
    assert.equal(await signedIn(call, `berth_session=${mallory.secret}`), 'mallory');
    assert.equal(await signedIn(call, `berth_session=${mallory.secret}; __Host-berth_session=${alice.secret}`), 'alice');
  });
});

describe('the session cookie over HTTPS under http.prefix', () => {
  const reg = useRegistry(() => ({ http: { prefix: '/registry' } }));
  const call = httpCall(() => `${reg().url}/registry`);

  it('is berth_session, Secure, for the prefix (__Host- needs path /), and is read back', async () => {
    const alice = await signIn(call, ALICE, HTTPS_PROXY);
    assert.equal(alice.name, 'berth_session');
    assert.match(alice.setCookie, /; Path=\/registry\/; .*; Secure$/);
    assert.equal(await signedIn(call, `berth_session=${alice.secret}`, HTTPS_PROXY), 'alice');
  });
});

describe('the session cookie on berth’s own TLS listener', { skip: which('openssl') ? false : 'openssl not installed' }, () => {
  let dir = '';
  let ca: Buffer | undefined;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-cookie-tls-'));
    const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')];
    execFileSync('openssl', [...args, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    ca = await fs.readFile(path.join(dir, 'cert.pem'));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));
  const reg = useRegistry(() => ({ http: { tls: { certificate: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') } } }));
  const call = httpsCall(
    () => reg().url,
    () => ca ?? Buffer.alloc(0),
  );

  it('reads only __Host-berth_session, and an X-Forwarded-Proto from a client cannot make the connection plain', async () => {
    const alice = await signIn(call, ALICE, { 'x-forwarded-proto': 'http' });
    const mallory = await signIn(call, MALLORY);
    assert.match(alice.setCookie, /^__Host-berth_session=.*; Secure$/);
    assert.equal(await signedIn(call, `berth_session=${mallory.secret}; __Host-berth_session=${alice.secret}`), 'alice');
    assert.equal(await signedIn(call, `berth_session=${mallory.secret}`, { 'x-forwarded-proto': 'http' }), null);
  });
});
