/**
 * distribution's `storage.s3` section, with its defaults, parsed into the S3 driver's settings
 * (src/storage/drivers/s3-client.ts), plus berth's own `checksums` for S3-compatible servers
 * that do not read the AWS SDK's default aws-chunked checksums (Ceph RGW, older MinIO).
 * The docker-registry image's AWS_BUCKET, AWS_KEY, ... reach these keys through legacy-storage.ts.
 */
import { z } from 'zod';
import type { S3Settings } from '../storage/drivers/s3-client.ts';

const MiB = 1024 * 1024;
const MIN_PART = 5 * MiB;
const MAX_PART = 5 * 1024 * MiB;

/** distribution's loglevel values; every debug flavour is the SDK's logger on the console. */
const S3_LOG_LEVELS = ['off', 'debug', 'debugwithsigning', 'debugwithhttpbody', 'debugwithrequestretries', 'debugwithrequesterrors', 'debugwitheventstreambody'] as const;

const partSize = (fallback: number) => z.number().int().min(MIN_PART, 'must be at least 5 MiB (5242880), S3\'s smallest part').max(MAX_PART, 'must be at most 5 GiB').default(fallback);

export const s3Schema = z
  .object({
    accesskey: z.string().min(1).optional(),
    secretkey: z.string().min(1).optional(),
    region: z.string().min(1),
    regionendpoint: z.string().min(1).optional(),
    bucket: z.string().min(1),
    rootdirectory: z.string().default(''),
    forcepathstyle: z.boolean().default(false),
    secure: z.boolean().default(true),
    encrypt: z.boolean().default(false),
    keyid: z.string().min(1).optional(),
    chunksize: partSize(10 * MiB),
    multipartcopychunksize: partSize(32 * MiB),
    multipartcopythresholdsize: z.number().int().min(0).default(32 * MiB),
    storageclass: z.string().min(1).default('STANDARD'),
    checksums: z.enum(['when_supported', 'when_required']).default('when_supported'),
    loglevel: z.enum(S3_LOG_LEVELS).default('off'),
  })
  .superRefine((s, ctx) => {
    if ((s.accesskey === undefined) !== (s.secretkey === undefined)) {
      ctx.addIssue({ code: 'custom', path: [s.accesskey === undefined ? 'accesskey' : 'secretkey'], message: 'accesskey and secretkey go together (neither: the AWS SDK credential chain)' });
    }
  })
  .transform((s): S3Settings => ({ ...s, loglevel: s.loglevel === 'off' ? 'off' : 'debug' }));

export type S3Config = z.output<typeof s3Schema>;
