/**
 * A test client that authenticates like docker does: on a 401 with a Bearer challenge it asks the
 * challenge's realm for a token for the challenge's scope (with Basic credentials, or anonymously)
 * and retries once with it. In 'basic' mode it sends Basic credentials on every request instead.
 */
import { Client } from './client.ts';

export interface Credentials {
  user: string;
  password: string;
}

export function basicHeader({ user, password }: Credentials): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** The parameters of a `WWW-Authenticate` header: scheme plus key="value" pairs. */
export function parseChallenge(header: string | null): { scheme: string; params: Record<string, string> } | undefined {
  if (header === null) return undefined;
  const space = header.indexOf(' ');
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) params[m[1] ?? ''] = (m[2] ?? '').replace(/\\(.)/g, '$1');
  return { scheme: header.slice(0, space).toLowerCase(), params };
}

export class AuthClient extends Client {
  private bearer: string | undefined;
  /** Token requests made (to count the round trips). */
  tokenRequests = 0;

  constructor(
    base: string,
    readonly creds: Credentials | undefined,
    readonly mode: 'token' | 'basic' = 'token',
  ) {
    super(base);
  }

  override async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.mode === 'basic' && this.creds) headers.set('authorization', basicHeader(this.creds));
    else if (this.bearer !== undefined) headers.set('authorization', `Bearer ${this.bearer}`);
    const res = await super.fetch(path, { ...init, headers });
    if (res.status !== 401 || this.mode === 'basic') return res;
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    if (challenge?.scheme !== 'bearer' || challenge.params['realm'] === undefined) return res;
    await res.arrayBuffer();
    const token = await this.token(challenge.params['realm'], challenge.params['service'] ?? '', challenge.params['scope']);
    if (token === undefined) return res;
    this.bearer = token;
    headers.set('authorization', `Bearer ${token}`);
    return super.fetch(path, { ...init, headers });
  }

  /**
   * A catalog page as the catalog clients (docker's distribution client, go-containerregistry,
   * containers/image) ask for one: ping /v2/ first and, when the registry challenges there, get a
   * registry:catalog:* token before the request. (Without the ping an anonymous /v2/_catalog is
   * answered at once with the public part, so a client waiting for a 401 would never log in.)
   */
  async catalog(query = ''): Promise<Response> {
    if (this.mode === 'token') {
      const ping = await super.fetch('/v2/');
      await ping.arrayBuffer();
      const challenge = parseChallenge(ping.headers.get('www-authenticate'));
      if (ping.status === 401 && challenge?.scheme === 'bearer' && challenge.params['realm'] !== undefined) {
        this.bearer = await this.token(challenge.params['realm'], challenge.params['service'] ?? '', 'registry:catalog:*');
      }
    }
    return this.fetch(`/v2/_catalog${query}`);
  }

  /** A token from the realm for one scope; undefined when the token server refuses. */
  async token(realm: string, service: string, scope: string | undefined): Promise<string | undefined> {
    const url = new URL(realm);
    url.searchParams.set('service', service);
    if (scope !== undefined) url.searchParams.set('scope', scope);
    this.tokenRequests++;
    const res = await fetch(url, { headers: this.creds ? { authorization: basicHeader(this.creds) } : {} });
    if (res.status !== 200) return undefined;
    return ((await res.json()) as { token: string }).token;
  }
}
