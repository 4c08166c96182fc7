/**
 * Webhook deliveries from Git hosts, verified with the rule's secret and read as the references
 * they moved: GitHub (X-Hub-Signature-256), Gitea and Forgejo (X-Gitea-Signature /
 * X-Forgejo-Signature, or X-Hub-Signature-256), GitLab (X-Gitlab-Token, compared in constant time)
 * and Bitbucket Cloud and Server (X-Hub-Signature: sha256=...). Nothing in a body is believed before its
 * signature or token checks out.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { HookRejectedError } from './errors.ts';
import type { SourceType } from './model.ts';
import { isRefName } from './rules.ts';

export type Provider = 'github' | 'gitea' | 'gitlab' | 'bitbucket';

export interface RefPush {
  type: SourceType;
  name: string;
  /** The commit the reference moved to. */
  commit: string | null;
}

export type HookOutcome =
  | { kind: 'push'; provider: Provider; refs: RefPush[] }
  /** A delivery that moves nothing to build (GitHub's ping, a deleted branch, another event). */
  | { kind: 'ignored'; provider: Provider; reason: string };

export { HookRejectedError };

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function hmacHex(secret: string, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** Which host sent it, by its event header. */
function providerOf(headers: Headers): Provider | undefined {
  if (header(headers, 'x-gitea-event') !== undefined || header(headers, 'x-forgejo-event') !== undefined) return 'gitea';
  if (header(headers, 'x-github-event') !== undefined) return 'github';
  if (header(headers, 'x-gitlab-event') !== undefined) return 'gitlab';
  if (header(headers, 'x-event-key') !== undefined) return 'bitbucket';
  return undefined;
}

function verify(provider: Provider, headers: Headers, body: Buffer, secret: string): void {
  const expected = hmacHex(secret, body);
  let ok = false;
  if (provider === 'gitlab') {
    const token = header(headers, 'x-gitlab-token');
    ok = token !== undefined && sameText(token, secret);
  } else {
    const candidates = [
      header(headers, 'x-hub-signature-256'),
      header(headers, 'x-hub-signature'),
      ...(provider === 'gitea' ? [header(headers, 'x-gitea-signature'), header(headers, 'x-forgejo-signature')] : []),
    ].filter((v): v is string => v !== undefined);
    ok = candidates.some((c) => sameText(c.startsWith('sha256=') ? c.slice(7) : c, expected));
  }
  if (!ok) throw new HookRejectedError(`the ${provider} delivery's signature or token does not match this hook's secret`, 'unauthorized');
}

const ZERO = /^0+$/;

function refOf(fullRef: unknown, commit: unknown): RefPush | undefined {
  if (typeof fullRef !== 'string') return undefined;
  const m = /^refs\/(heads|tags)\/(.+)$/.exec(fullRef);
  if (m?.[1] === undefined || m[2] === undefined || !isRefName(m[2])) return undefined;
  const sha = typeof commit === 'string' && /^[0-9a-f]{40,64}$/.test(commit) && !ZERO.test(commit) ? commit : null;
  return { type: m[1] === 'heads' ? 'branch' : 'tag', name: m[2], commit: sha };
}

/**
 * Each reference once, where it moved last: a delivery naming one reference many times would
 * otherwise cost a queue transaction per mention and per rule (store.enqueue), with nothing more to build.
 */
function lastOfEach(refs: readonly RefPush[]): RefPush[] {
  const last = new Map<string, RefPush>();
  for (const r of refs) {
    const key = `${r.type}:${r.name}`;
    last.delete(key);
    last.set(key, r);
  }
  return [...last.values()];
}

function pushesOf(provider: Provider, headers: Headers, payload: Record<string, unknown>): HookOutcome {
  const event = header(headers, 'x-github-event') ?? header(headers, 'x-gitea-event') ?? header(headers, 'x-forgejo-event') ?? header(headers, 'x-gitlab-event') ?? header(headers, 'x-event-key') ?? '';
  const ignored = (reason: string): HookOutcome => ({ kind: 'ignored', provider, reason });
  if (provider === 'bitbucket') {
    const refs: RefPush[] = [];
    if (event === 'repo:push') {
      const changes = (payload['push'] as { changes?: unknown[] } | undefined)?.changes ?? [];
      for (const c of changes as { new?: { type?: string; name?: string; target?: { hash?: string } } | null }[]) {
        const n = c.new;
        if (typeof n?.name !== 'string' || (n.type !== 'branch' && n.type !== 'tag')) continue;
        // checked as every other host's: a reference's name, and a commit id or nothing (never a refspec)
        const ref = refOf(`refs/${n.type === 'branch' ? 'heads' : 'tags'}/${n.name}`, n.target?.hash);
        if (ref !== undefined) refs.push(ref);
      }
    } else if (event === 'repo:refs_changed') {
      for (const c of (payload['changes'] ?? []) as { ref?: { id?: string }; toHash?: string; type?: string }[]) {
        if (c.type === 'DELETE') continue;
        const ref = refOf(c.ref?.id, c.toHash);
        if (ref !== undefined) refs.push(ref);
      }
    } else if (event === 'diagnostics:ping') {
      return ignored('a test delivery');
    } else {
      return ignored(`event ${event} builds nothing`);
    }
    return refs.length > 0 ? { kind: 'push', provider, refs: lastOfEach(refs) } : ignored('no branch or tag moved');
  }
  if (provider === 'github' && event === 'ping') return ignored('a test delivery');
  const isPush = provider === 'gitlab' ? event === 'Push Hook' || event === 'Tag Push Hook' : event === 'push';
  if (!isPush) return ignored(`event ${event} builds nothing`);
  if (payload['deleted'] === true) return ignored('the reference was deleted');
  const after = payload['after'] ?? payload['checkout_sha'];
  if (typeof after === 'string' && ZERO.test(after)) return ignored('the reference was deleted');
  const ref = refOf(payload['ref'], after);
  return ref === undefined ? ignored('the delivery names no branch or tag') : { kind: 'push', provider, refs: [ref] };
}

/** Verify a delivery with `secret` and read what it moved; throws HookRejectedError. */
export function readHook(headers: Headers, body: Buffer, secret: string): HookOutcome {
  const provider = providerOf(headers);
  if (provider === undefined) throw new HookRejectedError('not a webhook delivery of GitHub, GitLab, Gitea, Forgejo or Bitbucket (no event header)', 'invalid');
  verify(provider, headers, body, secret);
  let payload: unknown;
  try {
    const type = header(headers, 'content-type') ?? '';
    const text = body.toString('utf8');
    // GitHub and Gitea may send application/x-www-form-urlencoded with the JSON in `payload`.
    payload = JSON.parse(type.includes('x-www-form-urlencoded') ? (new URLSearchParams(text).get('payload') ?? '') : text);
  } catch {
    throw new HookRejectedError('the delivery\'s body is not JSON', 'invalid');
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new HookRejectedError('the delivery\'s body is not a JSON object', 'invalid');
  return pushesOf(provider, headers, payload as Record<string, unknown>);
}
