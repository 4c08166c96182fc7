/**
 * Calls to the management API (/api/v1) for the end-to-end tests: as anonymous, with a user's
 * Basic credentials, or with a bearer token; JSON in, status + JSON (or error code) out.
 */
import { basicHeader, type Credentials } from './auth-client.ts';

export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** The parsed body; undefined for an empty one. */
  body: unknown;
  /** The raw body text. */
  text: string;
  /** The first error code of an error envelope. */
  code: string | undefined;
}

export interface CallOptions {
  as?: Credentials | { bearer: string };
  /** A value sent as JSON, or a string sent as it is. */
  body?: unknown;
}

export function api(base: string) {
  return async function call(method: string, path: string, opts: CallOptions = {}): Promise<ApiAnswer> {
    const headers: Record<string, string> = {};
    if (opts.as !== undefined) headers['authorization'] = 'bearer' in opts.as ? `Bearer ${opts.as.bearer}` : basicHeader(opts.as);
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(base + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const code = (parsed as { errors?: { code?: string }[] } | undefined)?.errors?.[0]?.code;
    return { status: res.status, headers: res.headers, body: parsed, text, code };
  };
}
