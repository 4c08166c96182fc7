/**
 * Password hashing: argon2id (memory-hard, OWASP's first choice) through @node-rs/argon2, which
 * hashes on libuv's thread pool so a login never blocks the event loop. bcrypt hashes (from
 * htpasswd files) are verified with bcryptjs (pure JavaScript: no per-platform binaries; a verified
 * password is cached by the authenticator, so its speed is paid once a minute at most).
 */
import { hash, verify } from '@node-rs/argon2';
import { compare } from 'bcryptjs';
import { AccountInvalidError } from './errors.ts';

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

/** A hash of a password nobody has, verified when a user does not exist so that both take the same time. */
let decoy: Promise<string> | undefined;

export function checkPasswordStrength(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new AccountInvalidError(`password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH) throw new AccountInvalidError(`password must have at most ${MAX_PASSWORD_LENGTH} characters`);
}

export async function hashPassword(password: string): Promise<string> {
  checkPasswordStrength(password);
  return hash(password);
}

/** Whether `password` matches `stored` (argon2id or bcrypt PHC string); false for anything unrecognised. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  try {
    if (stored.startsWith('$argon2')) return await verify(stored, password);
    if (/^\$2[abxy]\$/.test(stored)) return await compare(password, stored);
  } catch {
    return false;
  }
  return false;
}

/** Spend the time a real verification takes, for a user who does not exist. */
export async function verifyDecoy(password: string): Promise<false> {
  decoy ??= hash('berth-decoy-password-nobody-has');
  await verifyPassword(await decoy, password);
  return false;
}
