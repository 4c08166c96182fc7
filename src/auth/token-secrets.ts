/**
 * Secrets of access tokens and `docker login` refresh tokens: 32 random bytes behind a prefix
 * that says what they are (so secret scanners and people recognise them). Only their SHA-256
 * is stored: the secrets are random enough that a fast hash cannot be reversed, and it lets a
 * token be found by its secret without a per-token comparison.
 */
import crypto from 'node:crypto';

export const PAT_PREFIX = 'berth_pat_';
export const REFRESH_PREFIX = 'berth_rt_';

export function newSecret(prefix: string): string {
  return prefix + crypto.randomBytes(32).toString('base64url');
}

export function newTokenId(): string {
  return crypto.randomBytes(8).toString('hex');
}

export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

export function isTokenSecret(value: string): boolean {
  return value.startsWith(PAT_PREFIX) || value.startsWith(REFRESH_PREFIX);
}
