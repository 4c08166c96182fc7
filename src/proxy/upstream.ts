/**
 * The client of one upstream registry: GET and HEAD under /v2/, anonymous or with credentials,
 * following the upstream's challenge (a Bearer token from its realm, cached per scope until it
 * expires, or Basic), following redirects (Docker Hub sends blobs from a CDN, without our
 * credentials), with a connect timeout and an idle timeout on every transfer.
 *
 * It answers with the upstream's status and body as they are; what a status means for the
 * client is decided by the pull-through services (upstreamError below).
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { readAtMost } from '../registry/body.ts';
import { UpstreamUnavailableError, type RegistryError } from '../registry/errors.ts';
import { parseChallenge, tokenFromResponse, TokenCache, type Challenge } from './challenge.ts';
import { socketReason, timedRequest } from './timed-request.ts';

export interface UpstreamOptions {
  /** For logs, metrics and errors. */
  name: string;
  url: string;
  username?: string;
  password?: string;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
}

export interface UpstreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body; the caller reads it or calls resume() to discard it. */
  body: IncomingMessage;
}

export interface UpstreamRequest {
  /** The upstream's repository name (for the token scope). */
  repository: string;
  accept?: string;
}

const MAX_REDIRECTS = 5;
const TOKEN_RESPONSE_LIMIT = 1024 * 1024;

export class UpstreamClient {
  readonly name: string;
  private readonly base: URL;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly tokens = new TokenCache();
  /** The upstream challenged with Basic once: send the credentials up front from then on. */
  private basic = false;

  constructor(private readonly opts: UpstreamOptions) {
    this.name = opts.name;
    this.base = new URL(opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
    this.agents = { http: new http.Agent({ keepAlive: true, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, maxSockets: 64 }) };
  }

  /** `path` is relative to /v2/ (e.g. `library/ubuntu/manifests/latest`). */
  async request(method: 'GET' | 'HEAD', path: string, req: UpstreamRequest): Promise<UpstreamResponse> {
    const url = new URL(`v2/${path}`, this.base);
    const scope = `repository:${req.repository}:pull`;
    let res = await this.follow(method, url, req.accept, this.authorization(scope));
    if (res.statusCode === 401) {
      const challenge = parseChallenge(res.headers['www-authenticate']);
      res.resume();
      const auth = challenge && (await this.authenticate(challenge, scope));
      if (auth !== undefined) res = await this.follow(method, url, req.accept, auth);
      else if (challenge !== undefined) res = await this.follow(method, url, req.accept, undefined);
    }
    return { status: res.statusCode ?? 0, headers: res.headers, body: res };
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private authorization(scope: string): string | undefined {
    const token = this.tokens.get(scope);
    if (token !== undefined) return `Bearer ${token}`;
    return this.basic ? this.basicCredentials() : undefined;
  }

  private basicCredentials(): string | undefined {
    const { username, password } = this.opts;
    if (username === undefined || password === undefined) return undefined;
    return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  /** The Authorization header answering the challenge; undefined when we have nothing to answer with. */
  private async authenticate(challenge: Challenge, scope: string): Promise<string | undefined> {
    if (challenge.scheme === 'basic') {
      this.basic = true;
      return this.basicCredentials();
    }
    const realm = challenge.params['realm'];
    if (realm === undefined || !URL.canParse(realm)) throw new UpstreamUnavailableError(this.name, 'Bearer challenge without a valid realm');
    const url = new URL(realm);
    if (challenge.params['service'] !== undefined) url.searchParams.set('service', challenge.params['service']);
    url.searchParams.set('scope', challenge.params['scope'] ?? scope);
    const res = await this.follow('GET', url, 'application/json', this.basicCredentials());
    const body = await readAtMost(res, TOKEN_RESPONSE_LIMIT);
    if (res.statusCode !== 200 || body === undefined) {
      throw new UpstreamUnavailableError(this.name, `token server answered ${res.statusCode ?? 0}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new UpstreamUnavailableError(this.name, 'token server answered with something not JSON');
    }
    const token = tokenFromResponse(parsed, Date.now());
    this.tokens.set(scope, token);
    return `Bearer ${token.token}`;
  }

  /** Send, following redirects; credentials go only to the origin they were meant for. */
  private async follow(method: 'GET' | 'HEAD', first: URL, accept: string | undefined, auth: string | undefined): Promise<IncomingMessage> {
    let url = first;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'User-Agent': 'berth-mirror' };
      if (accept !== undefined) headers['Accept'] = accept;
      if (auth !== undefined && url.origin === first.origin) headers['Authorization'] = auth;
      const res = await this.send(method, url, headers);
      const location = res.headers.location;
      if (![301, 302, 303, 307, 308].includes(res.statusCode ?? 0) || location === undefined || hop >= MAX_REDIRECTS) return res;
      res.resume();
      url = new URL(location, url);
    }
  }

  private send(method: 'GET' | 'HEAD', url: URL, headers: Record<string, string>): Promise<IncomingMessage> {
    const secure = url.protocol === 'https:';
    return timedRequest(url, { method, headers, agent: secure ? this.agents.https : this.agents.http }, this.opts, (req) => req.end(), (e) => new UpstreamUnavailableError(this.name, socketReason(e)));
  }
}

/**
 * The client's error for an upstream answer other than success: 404 (and a refusal, which is how
 * registries hide repositories one may not see) stays "unknown"; 429 and 5xx, and anything else
 * unexpected, make the upstream unavailable with the status as the reason.
 */
export function upstreamError(upstream: string, status: number, unknown: () => RegistryError): RegistryError {
  if (status === 404 || status === 401 || status === 403) return unknown();
  if (status === 429) return new UpstreamUnavailableError(upstream, 'rate limited by the upstream (429)');
  return new UpstreamUnavailableError(upstream, `upstream answered ${status}`);
}
