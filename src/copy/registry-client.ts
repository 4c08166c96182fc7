/**
 * The HTTP client of one registry host for `docker://` (issue 17): manifests (GET, HEAD, PUT,
 * DELETE), blobs (HEAD, GET from an offset, cross-repository mount; uploads are in
 * registry-upload.ts), tags and the catalog with `Link` pagination.
 *
 * Authentication answers the registry's challenge (registry-auth.ts) for the request's scopes
 * (`repository:NAME:pull` or `pull,push`, the source's `pull` too for a mount). Redirects are
 * followed without our credentials to another origin. Plain HTTP for loopback hosts (127.0.0.0/8,
 * localhost, [::1]) as docker does, or with `insecure`; HTTPS otherwise; or as `tls` says, when
 * the caller was told the scheme.
 *
 * Retries: a connection error, 429 or 5xx is tried again up to `retries` times (default 4, so 5
 * tries), after an exponential backoff with full jitter (base 500 ms, doubling, at most 10 s; a
 * 429's Retry-After is honoured up to 60 s); a 4xx never is. Only idempotent steps are retried
 * whole: a chunk of an upload is retried by asking the session's offset first (registry-upload.ts).
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { createHash } from 'node:crypto';
import { readAtMost } from '../registry/body.ts';
import { parseChallenge } from '../proxy/challenge.ts';
import { socketReason, timedRequest } from '../proxy/timed-request.ts';
import type { RegistryCredential } from './credentials.ts';
import { isLoopbackHost } from './loopback.ts';
import { RegistryAuth } from './registry-auth.ts';
import { CopyError, type ManifestBytes } from './transport.ts';

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface RegistryClientOptions {
  /** host[:port] as in the image reference (Docker Hub: registry-1.docker.io). */
  host: string;
  credential?: RegistryCredential;
  /** Plain HTTP for a host that is not loopback (`--tls-verify=false`). */
  insecure?: boolean;
  /**
   * TLS or not, whatever the host, when the caller was told the scheme (a replication rule's
   * `https://` is TLS even on loopback); else as `insecure` and the host say.
   */
  tls?: boolean;
  /** Tries after the first on a connection error, 429 or 5xx (default 4). */
  retries?: number;
  /** The first backoff (default 500 ms); it doubles, capped at 10 s, with full jitter. */
  backoffMs?: number;
  connectTimeoutMs?: number;
  /** Nothing received for this long ends a request (default 120 s). */
  idleTimeoutMs?: number;
  /** For tests: the pause between tries, and the jitter's random source. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface SendOptions {
  scopes: string[];
  accept?: string;
  headers?: Record<string, string>;
  /** A small body (a manifest); streamed bodies go through stream(). */
  body?: Buffer;
  /** Follow redirects (GET and HEAD). */
  follow?: boolean;
}

export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

const MAX_REDIRECTS = 5;
const SMALL_BODY_LIMIT = 4 * 1024 * 1024;
const RETRY_AFTER_CAP_MS = 60_000;
const BACKOFF_CAP_MS = 10_000;


/** A connection-level failure (refused, reset, timed out): worth another try. */

export class TransientError extends Error {}

export class RegistryClient {
  readonly host: string;
  readonly base: URL;
  private readonly agent: http.Agent;
  private readonly auth: RegistryAuth;
  private readonly retries: number;
  private closed = false;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly opts: RegistryClientOptions) {
    this.host = opts.host;
    const secure = opts.tls ?? !(opts.insecure === true || isLoopbackHost(opts.host));
    this.base = new URL(`${secure ? 'https' : 'http'}://${opts.host}/`);
    this.agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 16 }) : new http.Agent({ keepAlive: true, maxSockets: 16 });
    this.retries = opts.retries ?? 4;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = opts.random ?? Math.random;
    this.auth = new RegistryAuth(opts.host, opts.credential, (method, url, send) => this.callOnce(method, url, send));
  }

  url(path: string): URL {
    return new URL(`v2/${path}`, this.base);
  }

  /** Close the connections; a request after (a retry included) fails at once. */
  close(): void {
    this.closed = true;
    this.agent.destroy();
  }

  private checkOpen(): void {
    if (this.closed) throw new CopyError('BERTH_COPY_STOPPED', `the copy with ${this.host} was stopped`);
  }

  // --- manifests ---

  /** The manifest's exact bytes; its digest computed here (and checked when `reference` is one). */
  async getManifest(repository: string, reference: string): Promise<ManifestBytes> {
    const res = await this.call('GET', this.url(`${repository}/manifests/${reference}`), { scopes: [pull(repository)], accept: MANIFEST_ACCEPT, follow: true });
    if (res.statusCode !== 200) throw await this.failure(res, `GET manifest ${repository}:${reference}`);
    const bytes = await readAtMost(res, SMALL_BODY_LIMIT);
    if (bytes === undefined) throw new CopyError('BERTH_COPY_MANIFEST_INVALID', `${this.host}: manifest ${repository}:${reference} is larger than 4 MiB`);
    const mediaType = (res.headers['content-type'] ?? '').split(';')[0]?.trim() || mediaTypeOf(bytes);
    const algorithm = reference.includes(':') ? (reference.split(':')[0] ?? 'sha256') : 'sha256';
    const digest = `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
    if (reference.includes(':') && digest !== reference) {
      throw new CopyError('BERTH_COPY_DIGEST_MISMATCH', `${this.host}: manifest ${repository}@${reference} has digest ${digest}`);
    }
    return { bytes, mediaType, digest };
  }

  /** Digest, type and size of a manifest, or undefined when there is none. */
  async headManifest(repository: string, reference: string): Promise<{ digest: string | undefined; mediaType: string | undefined; size: number } | undefined> {
    const res = await this.call('HEAD', this.url(`${repository}/manifests/${reference}`), { scopes: [pull(repository)], accept: MANIFEST_ACCEPT, follow: true });
    res.resume();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) throw await this.failure(res, `HEAD manifest ${repository}:${reference}`);
    const digest = header(res.headers, 'docker-content-digest');
    return { digest, mediaType: header(res.headers, 'content-type'), size: Number(res.headers['content-length'] ?? 0) };
  }

  /** PUT by tag or digest; resolves to the digest the registry says it stored. */
  async putManifest(repository: string, reference: string, manifest: ManifestBytes): Promise<string> {
    const res = await this.call('PUT', this.url(`${repository}/manifests/${reference}`), {
      scopes: [push(repository)],
      headers: { 'Content-Type': manifest.mediaType },
      body: manifest.bytes,
    });
    if (res.statusCode !== 201 && res.statusCode !== 200) throw await this.failure(res, `PUT manifest ${repository}:${reference}`);
    res.resume();
    const stored = header(res.headers, 'docker-content-digest');
    if (stored !== undefined && stored !== manifest.digest) {
      throw new CopyError('BERTH_COPY_DIGEST_MISMATCH', `${this.host}: stored manifest ${repository}:${reference} as ${stored}, not ${manifest.digest}`);
    }
    return stored ?? manifest.digest;
  }

  /** DELETE a manifest by digest; false when it was not there. */
  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    const res = await this.call('DELETE', this.url(`${repository}/manifests/${digest}`), { scopes: [`repository:${repository}:delete`] });
    res.resume();
    if (res.statusCode === 404) return false;
    if (res.statusCode !== 202 && res.statusCode !== 200 && res.statusCode !== 204) throw await this.failure(res, `DELETE manifest ${repository}@${digest}`);
    return true;
  }

  // --- blobs ---

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const res = await this.call('HEAD', this.url(`${repository}/blobs/${digest}`), { scopes: [pull(repository)], follow: true });
    res.resume();
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw await this.failure(res, `HEAD blob ${repository}@${digest}`);
  }

  /** The blob's bytes from `offset`, streamed (the caller reads or destroys it). */
  async getBlob(repository: string, digest: string, offset = 0): Promise<IncomingMessage> {
    const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
    const res = await this.call('GET', this.url(`${repository}/blobs/${digest}`), { scopes: [pull(repository)], headers, follow: true });
    if (res.statusCode === 206 && offset > 0) {
      const start = /^bytes (\d+)-/.exec(header(res.headers, 'content-range') ?? '')?.[1];
      if (start !== undefined && Number(start) === offset) return res;
    }
    if (res.statusCode === 200) {
      if (offset === 0) return res;
      // No ranges here: skip to the offset ourselves.
      res.resume();
      throw new CopyError('BERTH_COPY_RANGE_UNSUPPORTED', `${this.host}: blob ${repository}@${digest} cannot be read from offset ${offset}`);
    }
    throw await this.failure(res, `GET blob ${repository}@${digest}`);
  }

  /**
   * Cross-repository mount. True: the registry linked the blob into `repository`. False: it did
   * not (it started an upload session instead, which is cancelled).
   */
  async mountBlob(repository: string, digest: string, from: string): Promise<boolean> {
    const url = this.url(`${repository}/blobs/uploads/`);
    url.searchParams.set('mount', digest);
    url.searchParams.set('from', from);
    const res = await this.call('POST', url, { scopes: [push(repository), pull(from)], body: Buffer.alloc(0) });
    res.resume();
    if (res.statusCode === 201) {
      const stored = header(res.headers, 'docker-content-digest');
      return stored === undefined || stored === digest;
    }
    if (res.statusCode === 202) {
      const location = header(res.headers, 'location');
      if (location !== undefined) {
        const cancel = await this.call('DELETE', new URL(location, url), { scopes: [push(repository)] }).catch(() => undefined);
        cancel?.resume();
      }
      return false;
    }
    if (res.statusCode !== undefined && res.statusCode >= 400 && res.statusCode < 500) return false;
    throw await this.failure(res, `mount blob ${digest} from ${from} into ${repository}`);
  }

  // --- listings ---

  /** Every tag, following `Link: <…>; rel="next"` pages of `pageSize`; none for an unknown repository. */
  async listTags(repository: string, pageSize = 1000): Promise<string[]> {
    const tags: string[] = [];
    for await (const page of this.pages(this.url(`${repository}/tags/list?n=${pageSize}`), [pull(repository)], 'tags')) tags.push(...page);
    return tags;
  }

  async catalog(pageSize = 1000): Promise<string[]> {
    const names: string[] = [];
    for await (const page of this.pages(this.url(`_catalog?n=${pageSize}`), ['registry:catalog:*'], 'repositories')) names.push(...page);
    return names;
  }

  private async *pages(first: URL, scopes: string[], key: 'tags' | 'repositories'): AsyncGenerator<string[]> {
    let url: URL | undefined = first;
    for (let page = 0; url !== undefined && page < 100_000; page++) {
      const res = await this.call('GET', url, { scopes, accept: 'application/json' });
      if (res.statusCode === 404 && key === 'tags') {
        res.resume();
        return;
      }
      if (res.statusCode !== 200) throw await this.failure(res, `GET ${url.pathname}`);
      const body = await readAtMost(res, SMALL_BODY_LIMIT);
      const parsed = body === undefined ? undefined : (safeJson(body) as Record<string, unknown> | undefined);
      const list = parsed?.[key];
      if (!Array.isArray(list)) throw new CopyError('BERTH_COPY_REGISTRY', `${this.host}: GET ${url.pathname} answered without a ${key} list`);
      yield list.filter((t): t is string => typeof t === 'string');
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header(res.headers, 'link') ?? '')?.[1];
      url = next === undefined ? undefined : new URL(next, url);
    }
  }

  // --- requests ---

  /**
   * One request with authentication and retries: a 401 is answered once (its challenge), a
   * connection error, 429 or 5xx is tried again with backoff. Resolves with the last response.
   */
  call(method: Method, url: URL, send: SendOptions): Promise<IncomingMessage> {
    return this.retrying(method, url, () => this.authorized(method, url, send));
  }

  /** `attempt` until it answers other than 429 or 5xx, or the tries run out; a TransientError is tried again. */
  private async retrying(method: Method, url: URL, attempt: () => Promise<IncomingMessage>): Promise<IncomingMessage> {
    for (let tried = 0; ; tried++) {
      this.checkOpen();
      let res: IncomingMessage;
      try {
        res = await attempt();
      } catch (e) {
        if (!(e instanceof TransientError) || tried >= this.retries) throw this.unreachable(e, method, url);
        await this.backoff(tried, undefined);
        continue;
      }
      if (!retriable(res.statusCode) || tried >= this.retries) return res;
      res.resume();
      await this.backoff(tried, header(res.headers, 'retry-after'));
    }
  }

  /** Pause before try `attempt + 1`. */
  async backoff(attempt: number, retryAfter: string | undefined): Promise<void> {
    const after = retryAfter !== undefined && /^\d+$/.test(retryAfter) ? Math.min(RETRY_AFTER_CAP_MS, Number(retryAfter) * 1000) : undefined;
    const base = this.opts.backoffMs ?? 500;
    await this.sleep(after ?? Math.floor(this.random() * Math.min(BACKOFF_CAP_MS, base * 2 ** attempt)));
  }

  get maxRetries(): number {
    return this.retries;
  }

  unreachable(e: unknown, method: Method, url: URL): Error {
    if (!(e instanceof TransientError)) return e as Error;
    return new CopyError('BERTH_COPY_UNREACHABLE', `${this.host}: ${method} ${url.pathname} failed after ${this.retries + 1} tries: ${e.message}`);
  }

  private async authorized(method: Method, url: URL, send: SendOptions): Promise<IncomingMessage> {
    const res = await this.follow(method, url, send, this.auth.authorization(send.scopes));
    if (res.statusCode !== 401) return res;
    const challenge = parseChallenge(res.headers['www-authenticate']);
    res.resume();
    if (challenge === undefined) return this.follow(method, url, send, undefined);
    this.auth.forget(send.scopes);
    return this.follow(method, url, send, await this.auth.authenticate(challenge, send.scopes));
  }

  /** The Authorization header we hold for these scopes, if any. */
  authorization(scopes: string[]): string | undefined {
    return this.auth.authorization(scopes);
  }

  /** Answer a 401's challenge: after this, authorization(scopes) has what to send. */
  async answer(res: IncomingMessage, scopes: string[]): Promise<void> {
    const challenge = parseChallenge(res.headers['www-authenticate']);
    res.resume();
    this.auth.forget(scopes);
    if (challenge !== undefined) await this.auth.authenticate(challenge, scopes);
  }

  /** A token request: retried as any idempotent step, but never answered with a challenge itself. */
  private callOnce(method: Method, url: URL, send: SendOptions): Promise<IncomingMessage> {
    return this.retrying(method, url, () => this.send(method, url, send, send.headers?.['Authorization']));
  }

  /** Send, following redirects for GET and HEAD; credentials go only to the registry's origin. */
  private async follow(method: Method, first: URL, send: SendOptions, auth: string | undefined): Promise<IncomingMessage> {
    let url = first;
    for (let hop = 0; ; hop++) {
      const res = await this.send(method, url, send, url.origin === this.base.origin ? auth : undefined);
      const location = res.headers.location;
      if (send.follow !== true || ![301, 302, 303, 307, 308].includes(res.statusCode ?? 0) || location === undefined || hop >= MAX_REDIRECTS) return res;
      res.resume();
      url = new URL(location, url);
    }
  }

  /** One HTTP exchange; a connection failure is a TransientError. */
  send(method: Method, url: URL, send: SendOptions, auth: string | undefined): Promise<IncomingMessage> {
    const headers: Record<string, string> = { 'User-Agent': 'berth-copy', ...send.headers };
    delete headers['Authorization'];
    if (auth !== undefined) headers['Authorization'] = auth;
    if (send.accept !== undefined) headers['Accept'] = send.accept;
    if (send.body !== undefined) headers['Content-Length'] = String(send.body.length);
    return this.exchange(method, url, headers, (req) => req.end(send.body));
  }

  /** The request, its body written by `write` (which ends it); resolves with the response. */
  exchange(method: Method, url: URL, headers: Record<string, string>, write: (req: http.ClientRequest) => void): Promise<IncomingMessage> {
    const timeouts = { connectTimeoutMs: this.opts.connectTimeoutMs ?? 30_000, idleTimeoutMs: this.opts.idleTimeoutMs ?? 120_000 };
    const agent = url.origin === this.base.origin ? this.agent : undefined;
    return timedRequest(url, { method, headers, agent }, timeouts, write, (e) => (e instanceof CopyError ? e : new TransientError(socketReason(e))));
  }

  /** A CopyError for an unexpected answer: the status, and the registry's error code and message. */
  async failure(res: IncomingMessage, what: string): Promise<CopyError> {
    const status = res.statusCode ?? 0;
    const body = await readAtMost(res, 64 * 1024).catch(() => undefined);
    const parsed = body === undefined ? undefined : (safeJson(body) as { errors?: { code?: unknown; message?: unknown }[] } | undefined);
    const first = Array.isArray(parsed?.errors) ? parsed.errors[0] : undefined;
    const detail = first !== undefined ? `: ${String(first.code)} ${String(first.message ?? '')}`.trimEnd() : '';
    const registryCode = String(first?.code ?? '');
    const code =
      registryCode === 'DIGEST_INVALID' || registryCode === 'SIZE_INVALID'
        ? 'BERTH_COPY_DIGEST_MISMATCH'
        : status === 401 || status === 403
          ? 'BERTH_COPY_UNAUTHORIZED'
          : status === 404
            ? 'BERTH_COPY_NOT_FOUND'
            : status === 429
              ? 'BERTH_COPY_RATE_LIMITED'
              : 'BERTH_COPY_REGISTRY';
    return new CopyError(code, `${this.host}: ${what} answered ${status}${detail}`, status);
  }
}

export function pull(repository: string): string {
  return `repository:${repository}:pull`;
}

export function push(repository: string): string {
  return `repository:${repository}:pull,push`;
}

export function retriable(status: number | undefined): boolean {
  return status === 429 || (status !== undefined && status >= 500);
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function mediaTypeOf(bytes: Buffer): string {
  const parsed = safeJson(bytes) as { mediaType?: unknown; manifests?: unknown } | undefined;
  if (typeof parsed?.mediaType === 'string') return parsed.mediaType;
  return Array.isArray(parsed?.manifests) ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json';
}
