/**
 * Keys of distribution's configuration format that berth accepts but does not act on (yet).
 * A config written for `registry:2` must load, so these are dropped with a warning naming the
 * key, never an error. Anything neither here nor in the schema is an "unknown key" warning.
 *
 * The one exception is a storage driver berth lacks (s3, azure, ...): ignoring it would put the
 * images somewhere the operator did not ask for, so that is an error (see normalize.ts, env.ts).
 */

/** Dotted key path -> why it is ignored. Whole sections warn once per key directly inside them. */
export const IGNORED_KEYS: ReadonlyMap<string, string> = new Map([
  ['auth.silly', "distribution's test-only access controller, ignored"],
  ['auth.token.rootcertbundle', 'berth verifies tokens of its own token server only (its keys: auth.token.keydirectory), ignored'],
  ['auth.token.jwks', 'berth verifies tokens of its own token server only (its keys: auth.token.keydirectory), ignored'],
  ['auth.token.autoredirect', 'not implemented by berth, ignored'],
  ['auth.token.signingalgorithms', 'berth signs with ES256, ignored'],
  ['redis', 'not implemented by berth yet, ignored'],
  ['health.file', 'not implemented by berth yet, ignored'],
  ['health.http', 'not implemented by berth yet, ignored'],
  ['health.tcp', 'not implemented by berth yet, ignored'],
  ['middleware', 'not implemented by berth yet, ignored'],
  ['reporting', 'not implemented by berth yet, ignored'],
  ['compatibility', 'not implemented by berth yet, ignored'],
  ['policy', 'not implemented by berth yet, ignored'],
  ['loglevel', 'deprecated in distribution, ignored: use log.level'],
  ['log.hooks', 'not implemented by berth, ignored'],
  ['log.reportcaller', 'not implemented by berth, ignored'],
  ['http.draintimeout', 'not implemented by berth yet, ignored'],
  ['http.http2', 'not implemented by berth, ignored'],
  ['http.h2c', 'not implemented by berth, ignored'],
  ['http.tls.clientauth', 'not implemented by berth yet, ignored'],
  ['http.tls.minimumtls', 'not implemented by berth yet, ignored'],
  ['http.tls.ciphersuites', 'not implemented by berth yet, ignored'],
  ['http.tls.letsencrypt', 'not implemented by berth, ignored'],
  ['storage.cache', 'ignored: berth keeps blob descriptors in its metadata store'],
  ['storage.tag', 'not implemented by berth, ignored'],
  ['storage.filesystem.maxthreads', 'not implemented by berth, ignored'],
  ['storage.redirect.exceptions', 'not implemented by berth, ignored'],
  ['validation.enabled', 'deprecated in distribution, ignored: use validation.disabled'],
  ['validation.manifests.indexes', 'not implemented by berth yet, ignored'],
]);

/** Storage drivers of distribution that berth does not have: configuring one is an error. */
export const UNSUPPORTED_DRIVERS: ReadonlySet<string> = new Set(['s3-aws', 'azure', 'gcs', 'swift', 'oss']);

/** Warnings for an ignored key holding `value`: one per key inside a non-empty mapping, else one. */
export function ignoredWarnings(path: string, value: unknown, reason: string): string[] {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0) {
    return Object.keys(value).map((key) => `${path}.${key}: ${reason}`);
  }
  return [`${path}: ${reason}`];
}
