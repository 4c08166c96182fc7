/**
 * Which configuration keys hold secrets, declared by key path (as reference.ts names them; list
 * items as `[]`) rather than guessed from key names: `http.tls.key` is a file path, while a
 * notification endpoint's headers commonly carry `Authorization`. Wherever berth prints
 * configuration (`berth config check`), the values at these paths are masked; under a mapping or
 * list, every value inside is masked and the keys are kept.
 *
 * print.test.ts fails when a key is named like a secret (password, secret, token, key, ...) but
 * is in neither list below, so each new key of that kind is decided on, not guessed.
 */

export const SECRET_KEYS: readonly string[] = [
  'database.password',
  'database.url',
  'http.secret',
  'notifications.endpoints[].secret',
  'notifications.endpoints[].headers',
  'proxy.password',
  'proxy.upstreams[].password',
  'replication.rules[].remote.password',
  'storage.s3.secretkey',
];

/** Keys named like secrets that are not: key path -> what the value is instead. */
export const NOT_SECRET_KEYS: Readonly<Record<string, string>> = {
  'database.sslkey': 'the path of the client key file, not the key itself',
  'http.tls.key': 'the path of the private key file, not the key itself',
  'storage.s3.accesskey': 'the access key ID, which names the key; its secret is storage.s3.secretkey',
  'storage.s3.keyid': 'the ID of a KMS key, not the key itself',
  auth: 'the authentication section; no secret is kept in it (password files and keys are paths)',
  'auth.token': "the token server's settings; its signing keys are files under auth.token.keydirectory",
};

export const MASK = '<masked>';
