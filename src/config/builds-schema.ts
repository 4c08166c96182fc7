/**
 * The `builds` section: automated builds (docs/builds.md). A repository with build rules follows
 * a Git repository: each new commit or tag that a rule matches is built with the configured
 * builder and the image pushed into berth. Off by default: a build runs code from a Git remote.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseSize } from './size.ts';

/** Where builds work when `builds.workdir` is not set (never under the registry's storage root). */
export const DEFAULT_BUILDS_WORKDIR = join(tmpdir(), 'berth-builds');

/** The builders berth can drive; the seam for another (BuildKit) later. */
export const BUILDERS = ['buildah'] as const;

const size = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    const bytes = parseSize(value);
    if (bytes > 0) return bytes;
    ctx.addIssue({ code: 'custom', message: 'must be greater than zero' });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
  return z.NEVER;
});

/** `duration`: the config's Go-duration type (milliseconds), passed in to avoid an import cycle with schema.ts. */
export function buildsSchema(duration: z.ZodType<number, string>) {
  return z
    .object({
      enabled: z.boolean().default(false),
      /** Builds running at once on this node; the rest wait in the queue, oldest first. */
      concurrency: z.number().int().positive().max(64).default(1),
      /** A build still running after this long is stopped and fails. */
      timeout: duration.prefault('1h'),
      /** Work directories of running builds (sources, the builder's image store); removed after each build. */
      workdir: z.string().min(1).default(DEFAULT_BUILDS_WORKDIR),
      builder: z.enum(BUILDERS).default('buildah'),
      /** Bytes of a build's log kept; past it the log says what was cut. */
      logsize: size.prefault('1MiB'),
      /**
       * The account builds run as (git and buildah, rootless in its subordinate ids), when berth runs
       * as root: a RUN step that gets out of its chroot is then that user, who cannot read berth's
       * data directory or keys. It needs /etc/subuid and /etc/subgid ranges (docs/builds.md).
       */
      user: z.string().min(1).max(32).optional(),
      /** How often rules without a webhook ask their remote for new commits (`git ls-remote`); each rule may set its own. */
      pollinterval: duration.prefault('5m'),
    })
    .prefault({});
}

export type BuildsConfig = z.output<ReturnType<typeof buildsSchema>>;
