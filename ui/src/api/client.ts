/**
 * The one way the UI talks to berth: fetch against `<base>/api/v1`, same-origin credentials (the
 * session cookie), `X-Berth-UI: 1` (401s then carry no browser password prompt) and the session's
 * CSRF token on every method but GET. Errors become ApiError with the registry's code and message.
 */
import { BASE } from '../lib/base.ts';

let csrfToken: string | null = null;

/** Dispatched on window when the API answers 401 (outside sign-in itself). */
export const UNAUTHORIZED_EVENT = 'berth:unauthorized';

/** Set from GET/POST /api/v1/session. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: unknown,
    /** Seconds, from Retry-After on a 429. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * A repository name in a URL path: its components encoded, its slashes kept. `.` and `..` are
 * never repository name components; they would walk the API path elsewhere, so they are refused.
 */
export function encodeName(name: string): string {
  const parts = name.split('/');
  if (parts.some((p) => p === '.' || p === '..' || p === '')) throw new ApiError(400, 'NAME_INVALID', `invalid repository name ${name}`);
  return parts.map(encodeURIComponent).join('/');
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (query === undefined) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
}

interface ErrorEnvelope {
  errors?: { code?: unknown; message?: unknown; detail?: unknown }[];
}

function retryAfterSeconds(res: Response): number | undefined {
  const raw = res.headers.get('Retry-After');
  if (raw === null) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

async function errorOf(res: Response): Promise<ApiError> {
  const retryAfter = retryAfterSeconds(res);
  let code = res.status >= 500 ? 'UNKNOWN' : `HTTP_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  let detail: unknown;
  try {
    const body = (await res.json()) as ErrorEnvelope;
    const first = body.errors?.[0];
    if (first !== undefined) {
      if (typeof first.code === 'string') code = first.code;
      if (typeof first.message === 'string' && first.message !== '') message = first.message;
      detail = first.detail;
    }
  } catch {
    // Not JSON (a proxy's page, say): the status says enough.
  }
  return new ApiError(res.status, code, message, detail, retryAfter);
}

/** A request to `/api/v1<path>`; resolves with the JSON answer (undefined for 204). */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json', 'X-Berth-UI': '1' };
  if (method !== 'GET' && csrfToken !== null) headers['X-CSRF-Token'] = csrfToken;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let res: Response;
  try {
    res = await fetch(withQuery(`${BASE}/api/v1${path}`, options.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
      ...(options.signal !== undefined && { signal: options.signal }),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'the registry could not be reached');
  }
  if (!res.ok) {
    // A session that ended (timeout, password change elsewhere): the header learns it at once.
    if (res.status === 401 && path !== '/session') window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
    throw await errorOf(res);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}
