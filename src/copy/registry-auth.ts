/**
 * How the copy client (registry-client.ts) authenticates to one registry, answering its challenge
 * as berth's mirror does (../proxy/challenge.ts): a Bearer token from the realm for the request's
 * scopes, cached per scope until it expires, fetched with Basic credentials (GET) or with docker
 * login's identity token (the OAuth2 POST, grant_type refresh_token); or Basic, sent up front once
 * the registry asked for it. Errors name the host and the token server, never a credential.
 */
import type { IncomingMessage } from 'node:http';
import { readAtMost } from '../registry/body.ts';
import { tokenFromResponse, TokenCache, type Challenge } from '../proxy/challenge.ts';
import type { RegistryCredential } from './credentials.ts';
import type { Method, SendOptions } from './registry-client.ts';
import { CopyError } from './transport.ts';

/** A request to the token server: retried as the client retries, never answered with a challenge. */
type TokenRequest = (method: Method, url: URL, send: SendOptions) => Promise<IncomingMessage>;

export class RegistryAuth {
  private readonly tokens = new TokenCache();
  /** The registry challenged with Basic: send the credentials up front from then on. */
  private basic = false;

  constructor(
    private readonly host: string,
    private readonly credential: RegistryCredential | undefined,
    private readonly request: TokenRequest,
  ) {}

  /** The Authorization header we hold for these scopes, if any. */
  authorization(scopes: string[]): string | undefined {
    const token = this.tokens.get(scopes.join(' '));
    if (token !== undefined) return `Bearer ${token}`;
    return this.basic ? this.basicCredentials() : undefined;
  }

  /** Drop the token of these scopes (the registry refused it). */
  forget(scopes: string[]): void {
    this.tokens.delete(scopes.join(' '));
  }

  /** Answer `challenge` for `scopes`: the Authorization header to send (undefined: none to send). */
  async authenticate(challenge: Challenge, scopes: string[]): Promise<string | undefined> {
    if (challenge.scheme === 'basic') {
      this.basic = true;
      return this.basicCredentials();
    }
    const realm = challenge.params['realm'];
    if (realm === undefined || !URL.canParse(realm)) throw new CopyError('BERTH_COPY_REGISTRY', `${this.host}: Bearer challenge without a valid realm`);
    const asked = [...scopes];
    const extra = challenge.params['scope'];
    if (extra !== undefined) for (const s of extra.split(' ')) if (s !== '' && !asked.includes(s)) asked.push(s);
    const service = challenge.params['service'];
    const url = new URL(realm);
    const credential = this.credential;
    let res: IncomingMessage;
    if (credential?.kind === 'identity-token') {
      // docker login's identity token: the OAuth2 refresh-token grant, as a form POST.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.token, client_id: 'berth', scope: asked.join(' ') });
      if (service !== undefined) form.set('service', service);
      res = await this.request('POST', url, { scopes: [], body: Buffer.from(form.toString()), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    } else {
      if (service !== undefined) url.searchParams.set('service', service);
      for (const s of asked) url.searchParams.append('scope', s);
      const auth = this.basicCredentials();
      res = await this.request('GET', url, { scopes: [], accept: 'application/json', headers: auth === undefined ? {} : { Authorization: auth } });
    }
    const body = await readAtMost(res, 1024 * 1024);
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new CopyError('BERTH_COPY_UNAUTHORIZED', `${this.host}: the token server ${url.host} refused the credentials (${res.statusCode})`);
    }
    if (res.statusCode !== 200 || body === undefined) throw new CopyError('BERTH_COPY_REGISTRY', `${this.host}: the token server ${url.host} answered ${res.statusCode ?? 0}`);
    let token;
    try {
      token = tokenFromResponse(JSON.parse(body.toString('utf8')), Date.now());
    } catch {
      throw new CopyError('BERTH_COPY_REGISTRY', `${this.host}: the token server ${url.host} answered without a token`);
    }
    this.tokens.set(scopes.join(' '), token);
    return `Bearer ${token.token}`;
  }

  private basicCredentials(): string | undefined {
    const c = this.credential;
    if (c?.kind !== 'basic') return undefined;
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }
}
