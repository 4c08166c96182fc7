/**
 * The `auth` section (distribution's keys: `htpasswd.realm/path`, `token.realm/service/issuer`,
 * plus berth's `token.expiration` and `token.keydirectory`) and berth's `access` section
 * (visibility of new repositories, the private repository limit). With either `auth.htpasswd` or
 * `auth.token` present, access control is on from the start; without (an empty section, or only
 * keys berth ignores such as `auth.silly`), it switches on with the first user.
 */
import { z } from 'zod';
import { repositoryPatternProblem } from '../retention/policy.ts';
import { MAX_TAG_GLOBS, tagGlobProblem } from '../registry/immutable.ts';
import { parseSize } from './size.ts';

type Duration = z.ZodType<number, string>;

export function authSchema(duration: Duration) {
  return z.object({
    /** distribution's htpasswd access controller: bcrypt users, Basic challenges. */
    htpasswd: z.object({ realm: z.string().min(1).default('berth'), path: z.string().min(1) }).optional(),
    /** berth's built-in token server (Docker token authentication). */
    token: z
      .object({
        realm: z
          .string()
          .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an absolute http:// or https:// URL')
          .optional(),
        service: z.string().min(1).default('berth'),
        issuer: z.string().min(1).default('berth'),
        expiration: duration.prefault('5m'),
        keydirectory: z.string().min(1).optional(),
      })
      .optional(),
  });
}

/** A size in bytes: a whole number, or a string with a unit ("10GiB", "500MB"; config/size.ts). */
const size = z.union([z.number(), z.string()]).transform((value, ctx) => {
  try {
    return parseSize(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const immutableRuleSchema = z.object({
  repository: z.string().superRefine((value, ctx) => {
    const problem = repositoryPatternProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
  tags: z
    .array(
      z.string().superRefine((value, ctx) => {
        const problem = tagGlobProblem(value);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      }),
    )
    .min(1)
    .max(MAX_TAG_GLOBS),
});

export const accessSchema = z.object({
  defaultvisibility: z.enum(['private', 'public']).default('private'),
  maxprivaterepos: z.number().int().nonnegative().default(0),
  /** Tags that can be neither moved nor deleted (registry/immutable.ts). */
  immutable: z.array(immutableRuleSchema).default([]),
  /** Bytes per user or organisation namespace (registry/quota.ts); 0: no limit. */
  quota: z
    .object({
      default: size.default(0),
      namespaces: z.record(z.string(), size).default({}),
    })
    .prefault({}),
});

/** An immutable tag rule as the API takes it (strict: an unknown key is an error). */
export const immutableRuleBody = immutableRuleSchema.strict();
/** A size as the API takes it. */
export const sizeSchema = size;
