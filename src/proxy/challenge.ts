/**
 * Upstream authentication: the registry's `WWW-Authenticate` challenge (Bearer with a token realm,
 * or Basic), and Bearer tokens cached per scope until they expire (docker's token protocol:
 * https://distribution.github.io/distribution/spec/auth/token/).
 */

export interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

/** Parses the first challenge of a WWW-Authenticate header; undefined when there is none we use. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (m === null) return undefined;
  const scheme = (m[1] ?? '').toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') return undefined;
  const params: Record<string, string> = {};
  const re = /\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/gy;
  re.lastIndex = header.length - (m[2] ?? '').length;
  for (let p = re.exec(header); p !== null; p = re.exec(header)) {
    params[(p[1] ?? '').toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme, params };
}

export interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Seconds a token lives when the token server does not say (the spec's default). */
const DEFAULT_TOKEN_SECONDS = 60;

/** The token's lifetime from a token server's JSON answer; throws when the answer has no token. */
export function tokenFromResponse(body: unknown, now: number): CachedToken {
  const o = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const token = typeof o['token'] === 'string' ? o['token'] : o['access_token'];
  if (typeof token !== 'string' || token === '') throw new Error('the token server answered without a token');
  const seconds = typeof o['expires_in'] === 'number' && o['expires_in'] > 0 ? o['expires_in'] : DEFAULT_TOKEN_SECONDS;
  // Renew a little early, so that a token does not expire between our check and the upstream's.
  return { token, expiresAt: now + Math.max(1, seconds - Math.min(30, seconds / 10)) * 1000 };
}

/** Bearer tokens by scope, until they expire. Bounded: the oldest go first past `max`. */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();

  constructor(private readonly max = 1000) {}

  get(scope: string, now = Date.now()): string | undefined {
    const cached = this.tokens.get(scope);
    if (cached === undefined) return undefined;
    if (cached.expiresAt <= now) {
      this.tokens.delete(scope);
      return undefined;
    }
    return cached.token;
  }

  set(scope: string, token: CachedToken): void {
    this.tokens.delete(scope);
    this.tokens.set(scope, token);
    while (this.tokens.size > this.max) {
      const oldest = this.tokens.keys().next();
      if (oldest.done === true) break;
      this.tokens.delete(oldest.value);
    }
  }

  delete(scope: string): void {
    this.tokens.delete(scope);
  }
}
