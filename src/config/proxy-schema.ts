/**
 * The `proxy` section: berth as a pull-through cache (mirror) of upstream registries.
 *
 * distribution's form, `proxy.remoteurl` (+ `username`, `password`, `ttl`), mirrors one upstream
 * for every repository name. berth's own form, `proxy.upstreams`, lists several, each claiming the
 * names under a prefix; names no upstream claims stay private repositories that users push to.
 * Both may be given: `remoteurl` then claims every name that no listed prefix does.
 *
 * `ttl` differs from distribution on purpose: distribution deletes cached content after it,
 * berth keeps content (by digest it never changes) and revalidates a tag with the upstream (one
 * HEAD) once it is older than `ttl`, serving the cached one when the upstream is down.
 *
 * A factory, not a schema: it takes schema.ts's duration type so that the generated reference
 * names it, without importing schema.ts (which imports this file).
 */
import { z } from 'zod';

/** The default time a tag is served from the cache before it is revalidated with the upstream. */
export const DEFAULT_PROXY_TTL = '5m';

const httpUrl = z
  .string()
  .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an absolute http:// or https:// URL');

const prefix = z
  .string()
  .refine((p) => p === '' || (p.endsWith('/') && !p.startsWith('/') && !p.includes('//')), 'must be empty or end with "/" (e.g. "docker.io/")');

function credentialsPaired(value: { username?: string | undefined; password?: string | undefined }, ctx: z.RefinementCtx): void {
  if ((value.username === undefined) !== (value.password === undefined)) {
    ctx.addIssue({ code: 'custom', path: [value.username === undefined ? 'username' : 'password'], message: 'username and password go together' });
  }
}

export function proxySchema(duration: z.ZodType<number, string>) {
  const upstream = z
    .object({
      name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, ".", "_" and "-"'),
      prefix,
      remoteprefix: prefix.default(''),
      url: httpUrl,
      username: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
      ttl: duration.optional(),
    })
    .superRefine(credentialsPaired);

  return z
    .object({
      remoteurl: httpUrl.optional(),
      username: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
      ttl: duration.prefault(DEFAULT_PROXY_TTL),
      connecttimeout: duration.prefault('10s'),
      idletimeout: duration.prefault('60s'),
      upstreams: z.array(upstream).default([]),
    })
    .superRefine((proxy, ctx) => {
      credentialsPaired(proxy, ctx);
      if (proxy.remoteurl === undefined && proxy.upstreams.length === 0) {
        ctx.addIssue({ code: 'custom', message: 'set proxy.remoteurl or list proxy.upstreams' });
      }
      const names = new Set<string>();
      const prefixes = new Set<string>(proxy.remoteurl === undefined ? [] : ['']);
      proxy.upstreams.forEach((u, index) => {
        if (names.has(u.name)) ctx.addIssue({ code: 'custom', path: ['upstreams', index, 'name'], message: `duplicate upstream name ${JSON.stringify(u.name)}` });
        if (prefixes.has(u.prefix)) ctx.addIssue({ code: 'custom', path: ['upstreams', index, 'prefix'], message: `prefix ${JSON.stringify(u.prefix)} is claimed twice` });
        names.add(u.name);
        prefixes.add(u.prefix);
      });
    });
}

export type ProxyConfig = z.output<ReturnType<typeof proxySchema>>;
export type UpstreamConfig = ProxyConfig['upstreams'][number];
