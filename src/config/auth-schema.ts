/**
 * The `auth` section (distribution's keys: `htpasswd.realm/path`, `token.realm/service/issuer`,
 * plus berth's `token.expiration` and `token.keydirectory`) and berth's `access` section
 * (visibility of new repositories, the private repository limit). With either `auth.htpasswd` or
 * `auth.token` present, access control is on from the start; without (an empty section, or only
 * keys berth ignores such as `auth.silly`), it switches on with the first user.
 */
import { z } from 'zod';

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

export const accessSchema = z.object({
  defaultvisibility: z.enum(['private', 'public']).default('private'),
  maxprivaterepos: z.number().int().nonnegative().default(0),
});
