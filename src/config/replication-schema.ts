/**
 * The `replication` section (issue 17, docs/replication.md): rules that copy images between berth
 * and another registry, pulling from it or pushing to it, by hand, on a schedule (cron) or, for
 * push rules, as images are pushed here. The copies run on the copy engine of `berth cp`.
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { PLATFORM_PATTERN } from '../copy/platforms.ts';
import { isLoopbackHost } from '../copy/loopback.ts';
import { isValidName } from '../registry/reference.ts';
import { parseSize } from './size.ts';

/** A rule's name: it is in URLs (`/api/v1/replication/NAME/trigger`) and in metrics' labels. */
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Repository and tag patterns: `*` any run of characters (`/` too), `?` one (src/registry/glob.ts). */
const pattern = z.string().min(1).max(256);

/** Repository patterns: a name without wildcards must be a repository name (it is written here as it is). */
const repositoryPattern = pattern.refine((p) => /[*?]/.test(p) || isValidName(p), 'a repository name (lowercase, with / between its parts), or a pattern with * or ?');

const remote = z.strictObject({
  /**
   * http(s)://host[:port], kept as its origin; a host on 127.0.0.0/8 or localhost may be plain
   * HTTP. No user or password in it (they would be shown: use username and password), no path.
   */
  url: z
    .string()
    .url()
    .refine((u) => /^https?:\/\/[^/@?#]+\/?$/.test(u), 'a registry URL: http(s)://host[:port], with no user, path, query or fragment')
    .transform((u) => new URL(u).origin),
  username: z.string().min(1).optional(),
  /** Never shown by the API, the CLI or a log (use `_env:VAR` to keep it out of the file). */
  password: z.string().min(1).optional(),
  /** Plain HTTP to a host that is not on this machine (the URL then is http://). */
  insecure: z.boolean().default(false),
});

/** One rule: an entry of `replication.rules`, and the body of the API's and the CLI's rules (replication/rule-book.ts). */
export const replicationRuleSchema = z
  .strictObject({
    name: z.string().regex(NAME, 'a lowercase name of letters, digits, ".", "_" and "-" (up to 63)'),
    direction: z.enum(['pull', 'push']),
    remote,
    /** A repository prefix at the other side: pull `lib/*` from `mirror/lib/*` with `remoteprefix: mirror`. */
    remoteprefix: z.string().regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/).optional(),
    filters: z
      .strictObject({
        /** Repositories (their names here) to replicate; a pattern without wildcards names one. */
        repositories: z.array(repositoryPattern).min(1).max(100).default(['*']),
        tags: z.array(pattern).min(1).max(100).default(['*']),
        /**
         * Of a multi-platform image (an index), only the images of these platforms
         * (`os/architecture[/variant]`), in an index of their own; none: every platform.
         */
        platforms: z.array(z.string().regex(PLATFORM_PATTERN, 'a platform is os/architecture[/variant], e.g. linux/amd64')).min(1).max(32).optional(),
      })
      .prefault({}),
    trigger: z
      .strictObject({
        /** Cron, in UTC: five fields (minute hour day month weekday), or six with seconds first. */
        schedule: z
          .string()
          .superRefine((value, ctx) => {
            try {
              new Cron(value, { timezone: 'UTC' }).stop();
            } catch (err) {
              ctx.addIssue({ code: 'custom', message: `not a cron schedule: ${(err as Error).message}` });
            }
          })
          .optional(),
        /** Push rules: copy each matching tag as it is pushed here. */
        onpush: z.boolean().default(false),
      })
      .prefault({}),
    /** Tags gone from the source (within the filters) are deleted at the destination too. */
    deletes: z.boolean().default(false),
    /** Blobs copied at once within one image. */
    parallel: z.number().int().min(1).max(32).default(4),
    /** Images copied at once. */
    concurrency: z.number().int().min(1).max(32).default(2),
    /** Bytes a second a run may send, all its blobs together (`50MiB`); none: no limit. */
    bandwidth: z
      .union([z.string(), z.number()])
      .transform((value, ctx) => {
        try {
          const bytes = parseSize(value);
          if (bytes >= 1024) return bytes;
          ctx.addIssue({ code: 'custom', message: 'at least 1KiB a second' });
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
        return z.NEVER;
      })
      .optional(),
  })
  .superRefine((r, ctx) => {
    if (r.trigger.onpush && r.direction !== 'push') ctx.addIssue({ code: 'custom', path: ['trigger', 'onpush'], message: 'only a push rule copies on push' });
    if ((r.remote.username === undefined) !== (r.remote.password === undefined)) ctx.addIssue({ code: 'custom', path: ['remote'], message: 'give both username and password, or neither' });
    // the scheme is what the client speaks: https is TLS, http plain (credentials in clear)
    const url = new URL(r.remote.url);
    if (url.protocol === 'https:' && r.remote.insecure) ctx.addIssue({ code: 'custom', path: ['remote', 'insecure'], message: 'insecure is plain HTTP: write the URL as http://' });
    if (url.protocol === 'http:' && !r.remote.insecure && !isLoopbackHost(url.host)) {
      ctx.addIssue({ code: 'custom', path: ['remote', 'url'], message: 'plain HTTP to a host that is not on this machine: give insecure: true, or use https://' });
    }
  });

export function replicationSchema() {
  return z
    .strictObject({
      rules: z.array(replicationRuleSchema).default([]),
    })
    .prefault({})
    .superRefine((r, ctx) => {
      const seen = new Set<string>();
      r.rules.forEach((x, i) => {
        if (seen.has(x.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `a second rule named ${x.name}` });
        seen.add(x.name);
      });
    });
}

export type ReplicationConfig = z.output<ReturnType<typeof replicationSchema>>;
export type ReplicationRule = ReplicationConfig['rules'][number];
