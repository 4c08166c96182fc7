/**
 * What the S3 driver shares between its files: its settings, the S3 client built from them, the
 * mapping of storage paths to object keys, and the SDK's errors read as storage outcomes.
 */
import { S3Client, S3ServiceException, type S3ClientConfig, type ServerSideEncryption, type StorageClass } from '@aws-sdk/client-s3';
import { StorageError } from '../driver.ts';

export const MiB = 1024 * 1024;
/** S3's smallest part but the last, and its largest single copy (CopyObject, UploadPartCopy). */
export const MIN_PART = 5 * MiB;
export const MAX_COPY = 5 * 1024 * MiB;

/** The driver's settings: distribution's `storage.s3` keys (see src/config/s3-schema.ts). */
export interface S3Settings {
  bucket: string;
  region: string;
  /** Endpoint of an S3-compatible server (Ceph RGW, MinIO); unset for AWS. */
  regionendpoint?: string;
  /** Absent: the SDK's own credential chain (environment, profile, instance role). */
  accesskey?: string;
  secretkey?: string;
  /** Key prefix under which everything is stored ('' or 'a/b'). */
  rootdirectory: string;
  forcepathstyle: boolean;
  /** http (false) or https (true) for a regionendpoint without a scheme. */
  secure: boolean;
  encrypt: boolean;
  /** KMS key for encrypt: true (aws:kms); unset: AES256. */
  keyid?: string;
  /** Part size of multipart uploads (at least 5 MiB): the most a writer buffers. */
  chunksize: number;
  /** Part size of server-side multipart copies. */
  multipartcopychunksize: number;
  /** Objects at least this large are copied part by part (CopyObject stops at 5 GiB). */
  multipartcopythresholdsize: number;
  /** 'NONE' sends no storage class (servers that refuse the header). */
  storageclass: string;
  /** 'when_required' for servers that do not read the SDK's default aws-chunked checksums (Ceph RGW, older MinIO). */
  checksums: 'when_supported' | 'when_required';
  loglevel: 'off' | 'debug';
}

export function clientConfig(s: S3Settings): S3ClientConfig {
  const endpoint =
    s.regionendpoint === undefined || /^https?:\/\//.test(s.regionendpoint)
      ? s.regionendpoint
      : `${s.secure ? 'https' : 'http'}://${s.regionendpoint}`;
  return {
    region: s.region,
    endpoint,
    forcePathStyle: s.forcepathstyle,
    credentials: s.accesskey !== undefined && s.secretkey !== undefined ? { accessKeyId: s.accesskey, secretAccessKey: s.secretkey } : undefined,
    requestChecksumCalculation: s.checksums === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
    responseChecksumValidation: s.checksums === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
    // The SDK's standard retry strategy: backoff with jitter on 5xx, throttling and network errors.
    retryMode: 'standard',
    maxAttempts: 5,
    logger: s.loglevel === 'debug' ? console : undefined,
  };
}

export function createClient(s: S3Settings): S3Client {
  return new S3Client(clientConfig(s));
}

/** Parameters every object creation carries: storage class and server-side encryption. */
export interface WriteParams {
  StorageClass?: StorageClass;
  ServerSideEncryption?: ServerSideEncryption;
  SSEKMSKeyId?: string;
}

export function writeParams(s: S3Settings): WriteParams {
  const params: WriteParams = {};
  if (s.storageclass !== 'NONE') params.StorageClass = s.storageclass as StorageClass;
  if (s.encrypt) {
    params.ServerSideEncryption = s.keyid !== undefined ? 'aws:kms' : 'AES256';
    if (s.keyid !== undefined) params.SSEKMSKeyId = s.keyid;
  }
  return params;
}

/** Storage paths (/a/b) as keys under the root directory ("root/a/b"), and back. */
export class KeySpace {
  readonly prefix: string;

  constructor(rootdirectory: string) {
    const root = rootdirectory.replace(/^\/+|\/+$/g, '');
    this.prefix = root === '' ? '' : `${root}/`;
  }

  key(path: string): string {
    return this.prefix + path.slice(1);
  }

  /** The prefix of every key below a directory path ('/' included). */
  under(path: string): string {
    return path === '/' ? this.prefix : `${this.key(path)}/`;
  }

  path(key: string): string {
    return `/${key.slice(this.prefix.length)}`;
  }
}

function statusOf(err: unknown): number | undefined {
  return err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound' || statusOf(err) === 404);
}

export function isInvalidRange(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === 'InvalidRange' || statusOf(err) === 416);
}

export function conflict(path: string): StorageError {
  return new StorageError(`${path}: a file or directory is in the way`);
}

/** `CopySource` of an object, URL-encoded segment by segment. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}
