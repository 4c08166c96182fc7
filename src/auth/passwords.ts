/**
 * Password hashing: argon2id (memory-hard, OWASP's first choice) through @node-rs/argon2, which
 * hashes on libuv's thread pool so a login never blocks the event loop. bcrypt hashes (from
 * htpasswd files) are verified with bcryptjs (pure JavaScript: no per-platform binaries; a verified
 * password is cached by the authenticator, so its speed is paid once a minute at most).
 *
 * Both are loaded on the first password hashed or verified: a registry without accounts (access
 * control off, or tokens only) never needs them, and @node-rs/argon2's native library alone adds
 * about 5 MiB to the server's resident memory.
 */
import { AccountInvalidError } from './errors.ts';

type Argon2 = typeof import('@node-rs/argon2');
type Bcrypt = typeof import('bcryptjs');

let argon2Module: Promise<Argon2> | undefined;
let bcryptModule: Promise<Bcrypt> | undefined;

function argon2(): Promise<Argon2> {
  argon2Module ??= import('@node-rs/argon2');
  return argon2Module;
}

function bcrypt(): Promise<Bcrypt> {
  bcryptModule ??= import('bcryptjs');
  return bcryptModule;
}

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
  return (await argon2()).hash(password);
}

/** Whether `password` matches `stored` (argon2id or bcrypt PHC string); false for anything unrecognised. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  // A module that fails to load is the server's error, not a wrong password: it is not caught.
  let check: (() => Promise<boolean>) | undefined;
  if (stored.startsWith('$argon2')) {
    const { verify } = await argon2();
    check = () => verify(stored, password);
  } else if (/^\$2[abxy]\$/.test(stored)) {
    const { compare } = await bcrypt();
    check = () => compare(password, stored);
  }
  if (check === undefined) return false;
  try {
    return await check();
  } catch {
    return false;
  }
}

/** Spend the time a real verification takes, for a user who does not exist. */
export async function verifyDecoy(password: string): Promise<false> {
  decoy ??= argon2().then((a) => a.hash('berth-decoy-password-nobody-has'));
  await verifyPassword(await decoy, password);
  return false;
}
