/**
 * What each configuration key means, by key path (as reference.ts names them; list items as
 * `[]`). docs/configuration.md and `berth config example` are generated from the schema plus
 * this map; docs.test.ts fails when a schema key has no entry here or an entry names no key.
 *
 * When you add a key to schema.ts: describe it here, then run `npm run docs:config`.
 */
import { SECRET_KEYS } from './secrets.ts';

export interface KeyDoc {
  /** One or two sentences for operators; the example config shows it as the key's comment. */
  description: string;
  /** Shown in the reference instead of the schema's default: a derived default, or what "unset" means. */
  default?: string;
  /** For a key without a default: a value shown (commented out) in the example config. */
  example?: unknown;
}

export const KEY_DOCS: Readonly<Record<string, KeyDoc>> = {
  version: { description: "Format version of the file; distribution's config.yml says 0.1. Not checked." },

  log: { description: 'Logging: JSON lines on standard output.' },
  'log.level': { description: 'Least severe level written: error, warn, info or debug (any case).' },
  'log.formatter': { description: "distribution's log format key; berth writes JSON lines whichever is set." },
  'log.fields': { description: 'Static fields added to every log line, e.g. `environment: staging`.' },
  'log.accesslog': { description: 'The per-request log line.' },
  'log.accesslog.disabled': { description: 'Turn off the per-request log line.' },

  http: { description: 'The HTTP listener.' },
  'http.addr': { description: 'Listen address: `host:port`, `:port` for every interface, or `[ipv6]:port`; port 0 picks a free port.' },
  'http.net': { description: "distribution's network key; berth listens on TCP only." },
  'http.prefix': { description: 'Path prefix the registry is served under (e.g. `/registry`); empty for the root.' },
  'http.host': {
    description: 'Externally reachable base URL (`https://registry.example.com`) for absolute `Location` headers.',
    default: 'taken from each request',
    example: 'https://registry.example.com',
  },
  'http.secret': {
    description: "distribution's upload-state signing secret; accepted for compatibility, berth keeps upload state server-side.",
    example: 'a-long-random-string',
  },
  'http.relativeurls': { description: 'Send relative `Location` headers instead of absolute ones.' },
  'http.headers': { description: 'Headers added to every response: header name to a list of values.' },
  'http.trustedproxies': {
    description:
      "berth's own: your reverse proxies, as IP addresses or CIDR ranges (`10.0.0.0/8`, `fd00::/8`). For a request from one of them, `X-Forwarded-For` is read from the right, past every trusted proxy, for the client's address (login throttling, event records), and `X-Forwarded-Proto` is believed; from anyone else both are ignored (except that `X-Forwarded-Proto: https` still makes the session cookie Secure). Empty: the connection's peer is the client.",
  },
  'http.tls': { description: 'TLS for the listener; on when both certificate and key are set.' },
  'http.tls.certificate': { description: 'PEM certificate file (chain included); requires `http.tls.key`.', example: '/etc/berth/tls/cert.pem' },
  'http.tls.key': { description: 'PEM private key file for the certificate (a path, not a secret value).', example: '/etc/berth/tls/key.pem' },
  'http.tls.clientcas': { description: 'PEM files of CAs whose client certificates are required (mutual TLS); needs certificate and key.' },
  'http.debug': { description: 'A second listener for operational endpoints only (health, metrics).' },
  'http.debug.addr': { description: 'Address of the debug listener, same forms as `http.addr`.', default: 'no debug listener', example: 'localhost:5001' },
  'http.debug.prometheus': { description: "distribution's metrics settings." },
  'http.debug.prometheus.enabled': { description: 'Also serve Prometheus metrics on the debug listener.' },
  'http.debug.prometheus.path': { description: 'Path of the metrics endpoint, on the debug listener and (with `metrics.enabled`) the main one; not under /v2.' },

  storage: { description: 'Where blobs and uploads are kept: exactly one driver section, plus common settings.' },
  'storage.filesystem': { description: 'Keep blobs, uploads and the SQLite file under a directory (the default driver).', default: 'the default driver' },
  'storage.filesystem.rootdirectory': { description: 'The directory; created if missing.' },
  'storage.inmemory': { description: 'Keep everything in memory and lose it on exit (tests); replaces `filesystem`.' },
  'storage.s3': {
    description: 'Keep blobs and uploads in an S3 bucket (AWS, or an S3-compatible server such as Ceph RGW or MinIO); replaces `filesystem`. The metadata store stays a local file (`meta.sqlite.path`, required with this driver).',
  },
  'storage.s3.accesskey': { description: 'Access key ID; with `secretkey`. Neither: the AWS SDK credential chain (environment, profile, instance role).', example: 'AKIAEXAMPLE' },
  'storage.s3.secretkey': { description: 'Secret access key for `accesskey`.', example: 'secret' },
  'storage.s3.region': { description: 'The bucket\'s region (`us-east-1` for most S3-compatible servers).', example: 'us-east-1' },
  'storage.s3.regionendpoint': { description: 'Endpoint of an S3-compatible server (`http://rgw.local:7480`); without a scheme, `secure` picks one.', default: "AWS's endpoint for the region", example: 'http://127.0.0.1:7480' },
  'storage.s3.bucket': { description: 'The bucket; it must exist.', example: 'registry' },
  'storage.s3.rootdirectory': { description: 'Key prefix under which everything is stored; empty for the bucket\'s root.' },
  'storage.s3.forcepathstyle': { description: 'Path-style requests (`endpoint/bucket/key`), as Ceph RGW and MinIO need.' },
  'storage.s3.secure': { description: 'https (true) or http (false) for a `regionendpoint` without a scheme.' },
  'storage.s3.encrypt': { description: 'Server-side encryption of every object: AES256, or aws:kms with `keyid`.' },
  'storage.s3.keyid': { description: 'KMS key for `encrypt`.', default: 'AES256 (no KMS key)', example: 'arn:aws:kms:us-east-1:123456789012:key/example' },
  'storage.s3.chunksize': { description: 'Part size of multipart uploads in bytes (5 MiB to 5 GiB): the most each upload buffers in memory.' },
  'storage.s3.multipartcopychunksize': { description: 'Part size of server-side multipart copies in bytes (5 MiB to 5 GiB).' },
  'storage.s3.multipartcopythresholdsize': { description: 'Objects at least this many bytes are copied part by part (a single copy stops at 5 GiB).' },
  'storage.s3.storageclass': { description: 'Storage class of new objects; `NONE` sends none (for servers that refuse the header).' },
  'storage.s3.checksums': {
    description: "berth's own: `when_required` sends and checks the AWS SDK's checksums only where S3 requires them, for S3-compatible servers that refuse the SDK's default (Ceph RGW, older MinIO); `when_supported` otherwise.",
  },
  'storage.s3.loglevel': { description: "The AWS SDK's logging: `off`, or `debug` (and distribution's debug variants) to log every request on the console." },
  'storage.delete': { description: 'Deleting manifests, tags and blobs through the API.' },
  'storage.delete.enabled': { description: 'Allow deletes (distribution defaults to false; berth to true).' },
  'storage.redirect': { description: 'Redirecting blob downloads to the storage backend.' },
  'storage.redirect.disable': { description: 'Never redirect blob GETs; always serve the bytes.' },
  'storage.maintenance': { description: 'Background maintenance.' },
  'storage.maintenance.uploadpurging': { description: 'Removal of abandoned upload sessions.' },
  'storage.maintenance.uploadpurging.enabled': { description: 'Purge abandoned uploads periodically.' },
  'storage.maintenance.uploadpurging.age': { description: 'Uploads untouched for longer than this are abandoned.' },
  'storage.maintenance.uploadpurging.interval': { description: 'Time between purges.' },
  'storage.maintenance.uploadpurging.dryrun': { description: 'Only log what would be purged.' },
  'storage.maintenance.readonly': { description: 'Read-only mode, e.g. during a migration.' },
  'storage.maintenance.readonly.enabled': { description: 'Refuse every write (405); pulls keep working.' },
  'storage.gc': { description: 'Online garbage collection: what deletes left behind is freed while pushes and pulls go on (docs/gc.md).' },
  'storage.gc.interval': { description: 'Time between background runs; `0` turns them off (`berth gc` and `POST /api/v1/admin/gc` still run one).' },
  'storage.gc.window': { description: 'Background runs start only inside this daily window of the server\'s local time, `HH:MM-HH:MM`; it may span midnight.', example: '01:00-05:00' },
  'storage.gc.grace': { description: 'A blob is collected only once unreferenced (and its links older than) this long, and an untagged manifest only once this old: the time a push has between its blobs and its manifest.' },
  'storage.gc.untagged': { description: '`keep` untagged manifests, or `delete` them once older than the grace (never an index\'s child, nor a referrer whose subject is here).' },

  meta: { description: "berth's metadata store (tags, manifests, blob links, upload sessions)." },
  'meta.sqlite': { description: 'The SQLite metadata store.' },
  'meta.sqlite.path': {
    description: 'The SQLite database file, or `:memory:`.',
    default: '`<storage.filesystem.rootdirectory>/berth.db`; `:memory:` with `storage.inmemory`; required with `storage.s3` unless `database.enabled`',
    example: '/var/lib/berth/berth.db',
  },

  database: { description: "PostgreSQL for every store instead of `meta.sqlite`, so several berth nodes serve one registry (GitLab container registry's keys)." },
  'database.enabled': { description: 'Keep metadata, accounts, search and the event queue in PostgreSQL; `meta.sqlite` is then unused.' },
  'database.url': { description: 'A connection string; when set, the host, port, user, password, dbname and ssl keys are ignored.', example: 'postgres://berth:secret@db.local:5432/berth?sslmode=verify-full' },
  'database.host': { description: 'Server host name, or the directory of its Unix socket (a path starting with `/`).' },
  'database.port': { description: 'Server port.' },
  'database.user': { description: 'User to connect as.' },
  'database.password': { description: 'Password of `user`.', default: 'none (trust, peer or a client certificate)', example: 'secret' },
  'database.dbname': { description: 'Database; berth creates and migrates its tables in it on start.' },
  'database.sslmode': {
    description: "libpq's TLS modes. `prefer` and `allow` encrypt as `require` does: the client never falls back to plain text.",
    default: 'no TLS',
    example: 'verify-full',
  },
  'database.sslrootcert': { description: 'CA certificate file to verify the server with.', default: "the system's CAs", example: '/etc/berth/pg-ca.pem' },
  'database.sslcert': { description: 'Client certificate file.', default: 'none', example: '/etc/berth/pg-client.pem' },
  'database.sslkey': { description: 'Client private key file.', default: 'none', example: '/etc/berth/pg-client.key' },
  'database.connecttimeout': { description: 'How long to wait for a connection before failing the request.' },
  'database.pool': { description: 'The connection pool of each node.' },
  'database.pool.maxopen': { description: 'Most connections open at once (per node).' },
  'database.pool.maxidle': { description: "Accepted for GitLab's config; the pool closes idle connections after `maxidletime`." },
  'database.pool.maxidletime': { description: 'An idle connection is closed after this long.' },

  catalog: { description: 'The `/v2/_catalog` listing.' },
  'catalog.maxentries': { description: 'Most repositories returned in one catalog page.' },

  validation: { description: "distribution's manifest validation settings; accepted, not yet applied by berth." },
  'validation.disabled': { description: "distribution's switch to turn manifest validation off." },
  'validation.manifests': { description: 'Rules for manifests.' },
  'validation.manifests.urls': { description: 'Rules for the URLs of foreign layers.' },
  'validation.manifests.urls.allow': { description: 'Regular expressions a layer URL must match.' },
  'validation.manifests.urls.deny': { description: 'Regular expressions a layer URL must not match.' },

  notifications: { description: 'Webhooks: registry events POSTed to endpoints, queued durably and retried.', default: 'no notifications' },
  'notifications.events': { description: 'What events carry.' },
  'notifications.events.includereferences': { description: "List a manifest's references (layers, config) in its events." },
  'notifications.endpoints': { description: 'The endpoints events are sent to.' },
  'notifications.endpoints[].name': { description: 'Name of the endpoint, unique; used in logs and delivery records.', example: 'audit' },
  'notifications.endpoints[].disabled': { description: 'Send nothing to this endpoint.' },
  'notifications.endpoints[].url': { description: 'Absolute http:// or https:// URL events are POSTed to.', example: 'https://events.example.com/registry' },
  'notifications.endpoints[].headers': { description: 'Headers sent with every request: name to a list of values.' },
  'notifications.endpoints[].timeout': { description: 'How long to wait for the endpoint to answer.' },
  'notifications.endpoints[].threshold': { description: 'Consecutive failures before the endpoint is reported as failing; 0 means 10.' },
  'notifications.endpoints[].backoff': { description: 'First retry delay after a failure, doubled on each further one.' },
  'notifications.endpoints[].ignoredmediatypes': { description: 'Events for targets of these media types are not sent.' },
  'notifications.endpoints[].ignore': { description: 'More events not to send.' },
  'notifications.endpoints[].ignore.mediatypes': { description: 'Target media types not to send events for.' },
  'notifications.endpoints[].ignore.actions': { description: 'Actions not to send events for: push, pull, delete, mount.' },
  'notifications.endpoints[].secret': {
    description: "berth's own: sign each body with HMAC-SHA256 in the X-Berth-Signature header.",
    example: 'a-shared-hmac-key',
  },

  auth: {
    description:
      'Authentication. Present, access control is on from the start; absent, it switches on with the first user (`berth user add`).',
    default: 'off until the first user exists',
  },
  'auth.htpasswd': { description: "distribution's htpasswd mode: Basic challenges; every user of the file may do everything." },
  'auth.htpasswd.realm': { description: 'Realm named in the Basic challenge.' },
  'auth.htpasswd.path': { description: 'bcrypt htpasswd file (`htpasswd -B`); re-read when it changes.', example: '/etc/berth/htpasswd' },
  'auth.token': { description: "berth's built-in token server (Docker token authentication)." },
  'auth.token.realm': {
    description: 'Token endpoint URL named in challenges; set it when berth is reached through a proxy that rewrites paths.',
    default: 'this server\'s /auth/token, from each request',
    example: 'https://registry.example.com/auth/token',
  },
  'auth.token.service': { description: 'Service name: the audience of issued tokens and the `service` clients send.' },
  'auth.token.issuer': { description: 'Issuer (`iss`) of the tokens berth signs and accepts.' },
  'auth.token.expiration': { description: 'How long an issued bearer token is valid.' },
  'auth.token.keydirectory': {
    description: 'Directory of the ES256 signing keys (created on first start; `berth auth rotate-key` adds one).',
    default: '`auth/keys` beside the metadata database; in memory for an in-memory registry',
    example: '/srv/berth/auth/keys',
  },
  access: { description: "berth's own: visibility of new repositories and the private repository limit." },
  'access.defaultvisibility': { description: 'Visibility of a new repository: `private` (only its owners and teams) or `public` (anyone may pull).' },
  'access.maxprivaterepos': { description: "The most private repositories one user or organisation may hold (Docker Hub's rule); 0 for no limit." },
  'access.immutable': {
    description:
      "berth's own: tags that can be neither moved to another manifest nor deleted (nor the manifest they point at), by anyone, administrators included, until the rule is lifted. Administrators add, replace and lift rules through /api/v1/admin/immutable; a rule set there replaces the one of the same pattern here.",
  },
  'access.immutable[].repository': { description: 'Repositories the rule covers: a name, or a pattern where `*` stands for any characters, `/` included (`acme/*`, `*`).', example: 'acme/*' },
  'access.immutable[].tags': { description: 'Tags the rule holds: patterns where `*` stands for any characters and `?` for one (`v*`, `*` for every tag).', example: ['v*'] },
  'access.quota': { description: "berth's own: bytes each user or organisation namespace may hold, counted on its distinct blobs (manifests included); a push past it is refused with 403 DENIED. Administrators override a namespace's limit through /api/v1/namespaces/{namespace}/quota." },
  'access.quota.default': { description: 'The limit of a namespace without one of its own: bytes, or a size with a unit (`10GiB`, `500MB`); 0 for no limit.' },
  'access.quota.namespaces': { description: 'Limits of named namespaces (`{acme: 100GiB}`), which replace the default; 0 for no limit.' },
  ui: { description: "berth's own: the web UI served at `/` (built by `npm run build:ui`), its browser sessions and storage history." },
  'ui.enabled': { description: 'Serve the web UI at `/` (under `http.prefix`). The JSON API it uses stays on either way.' },
  'ui.sessionttl': { description: 'How long a web UI sign-in lasts. Sessions also end at sign-out, on a password change and when the user is deleted.' },
  'ui.storagesampleinterval': {
    description: 'How often the storage used per namespace is recorded for the admin page chart (kept 90 days).',
  },

  proxy: {
    description:
      'A pull-through cache (mirror) of upstream registries. Manifests by digest and blobs are cached for good; tags are revalidated with the upstream once older than `ttl`.',
    default: 'no mirroring',
  },
  'proxy.remoteurl': {
    description: "distribution's form: the one upstream mirrored for every repository name that no `upstreams` prefix claims.",
    example: 'https://registry-1.docker.io',
  },
  'proxy.username': { description: 'User name for `remoteurl` (Basic, or to obtain Bearer tokens); anonymous when unset.', example: 'mirror-bot' },
  'proxy.password': { description: 'Password or access token for `remoteurl`, with `username`.', example: 'upstream-password' },
  'proxy.ttl': {
    description:
      "How long a cached tag is served before one HEAD revalidates it with the upstream (distribution deletes cached content after its ttl; berth keeps it). The default for every upstream.",
  },
  'proxy.connecttimeout': { description: 'How long to wait for a connection to an upstream.' },
  'proxy.idletimeout': { description: 'An upstream transfer that sends nothing for this long is cut (and nothing of it is cached).' },
  'proxy.upstreams': { description: "berth's own form: several upstreams, each claiming the repository names under its prefix; the longest prefix wins." },
  'proxy.upstreams[].name': { description: 'Name of the upstream in `berth mirror status`, logs and metrics.', example: 'dockerhub' },
  'proxy.upstreams[].prefix': {
    description: 'The local names it claims: `docker.io/` serves `docker.io/library/ubuntu` from the upstream; empty claims every name no other prefix does.',
    example: 'docker.io/',
  },
  'proxy.upstreams[].remoteprefix': {
    description: 'What replaces `prefix` in the name asked of the upstream: with prefix `library/` and remoteprefix `library/`, names pass unchanged.',
  },
  'proxy.upstreams[].url': { description: 'Base URL of the upstream registry.', example: 'https://registry-1.docker.io' },
  'proxy.upstreams[].username': { description: 'User name at the upstream; anonymous when unset.', example: 'mirror-bot' },
  'proxy.upstreams[].password': { description: 'Password or access token at the upstream, with `username`.', example: 'dckr_pat_example' },
  'proxy.upstreams[].ttl': { description: 'This upstream\'s tag revalidation interval; `proxy.ttl` when unset.', example: '1m' },

  health: { description: 'Readiness checks (`/readyz`).' },
  'health.storagedriver': { description: 'The storage check.' },
  'health.storagedriver.enabled': { description: 'Check storage in the background instead of on each /readyz request.' },
  'health.storagedriver.interval': { description: 'Time between background storage checks.' },
  'health.storagedriver.threshold': { description: 'Consecutive failures before storage counts as down; 0 means 1.' },

  metrics: { description: 'Prometheus metrics.' },
  'metrics.enabled': { description: "berth's own: serve metrics on the main listener at `http.debug.prometheus.path`." },

  retention: {
    description:
      "berth's own: retention policies, applied at the start of each garbage collection run; preview them with `berth retention preview` (docs/retention.md). Administrators' policies set through /api/v1 override one of the same pattern here.",
  },
  'retention.policies': { description: 'The policies; for each repository the most specific pattern applies (an exact name, else the most characters other than `*`).' },
  'retention.policies[].repository': { description: 'Repositories the policy covers: a name, or a pattern where `*` stands for any characters, `/` included (`acme/*`, `*`).', example: 'acme/*' },
  'retention.policies[].keep': { description: 'Tags kept whatever else the policy says: a tag is kept if ANY keep rule keeps it.' },
  'retention.policies[].keep.newest': { description: 'Keep the N most recently pushed tags (ties: the name that sorts last counts as newer).', example: 10 },
  'retention.policies[].keep.tags': { description: 'Keep tags matching any of these regular expressions (RE2 syntax, unanchored: `^v[0-9]`; no backreferences or lookaround, see retention.md).' },
  'retention.policies[].delete': { description: 'With keep rules alone, every tag they do not keep is deleted; these narrow or add to that.' },
  'retention.policies[].delete.notpulledfor': {
    description: 'Delete only tags (not kept) neither pulled nor pushed for this long: days (`90d`) or a duration (`2160h`). A tag never pulled counts from its push.',
    example: '90d',
  },
  'retention.policies[].delete.untaggedafter': {
    description: 'Delete manifests that have had no tag for this long: since they lost their last tag, or since their push (not children of an index, not referrers of a present subject).',
    example: '7d',
  },

  builds: {
    description:
      "berth's own: automated builds. A repository's build rules follow a Git repository; each commit or tag a rule matches is built with buildah and pushed into the repository (docs/builds.md). Off by default: a build runs the Dockerfile of whoever may set up rules.",
  },
  'builds.enabled': { description: 'Automated builds: their API (`/api/v1/repositories/NAME/_builds`, the webhooks and badges), `berth build` and the build queue. Off, those answer 404 and nothing is built.' },
  'builds.concurrency': { description: 'Builds running at once on this node; the others wait in the queue, oldest first.' },
  'builds.timeout': { description: 'A build still running after this long is stopped and marked failed.' },
  'builds.workdir': {
    description: "Where running builds keep their sources and the builder's image store; each build's directory is removed when it ends. Give it a disk with room for the largest image and its base images.",
    default: '`berth-builds` in the system temp directory',
  },
  'builds.builder': { description: 'The program that builds: `buildah` (Debian\'s, `buildah build` with vfs storage and chroot isolation).' },
  'builds.logsize': { description: "Bytes of a build's log kept; past this the log ends with a line saying it was cut." },
  'builds.pollinterval': { description: 'How often a rule that polls (for remotes that cannot send webhooks) asks its Git remote for new commits with `git ls-remote`.' },
  replication: { description: 'Replication (docs/replication.md): rules that copy images between berth and another registry.' },
  'replication.rules': { description: 'The rules. Each runs by hand (`berth replication trigger`, the API), on its schedule, or (push rules) as images are pushed.' },
  'replication.rules[].name': { description: 'The rule\'s name, unique: in URLs, the CLI and metrics. Lowercase letters, digits, `.`, `_` and `-`.', example: 'fromhub' },
  'replication.rules[].direction': { description: '`pull` copies from the remote into berth; `push` copies from berth to the remote.', example: 'pull' },
  'replication.rules[].remote': { description: 'The other registry: another berth, distribution, or any OCI registry with Basic or token auth.' },
  'replication.rules[].remote.url': { description: 'Its address, `https://host[:port]` (`http://` for a registry on this machine, or with `insecure`).', example: 'https://registry.example.com' },
  'replication.rules[].remote.username': { description: 'Its user (with `password`); none: anonymous.', example: 'robot' },
  'replication.rules[].remote.password': { description: 'Its password or token; never shown by the API, the CLI or a log. Keep it out of the file with `_env:VAR`.', example: 'a-robot-token' },
  'replication.rules[].remote.insecure': { description: 'Plain HTTP (no TLS) to a registry that is not on this machine; its URL is then http://. An https:// URL is always TLS, a loopback one too.' },
  'replication.rules[].remoteprefix': { description: 'A namespace prefix at the remote: with `mirror`, the repository `lib/app` here is `mirror/lib/app` there.', example: 'mirror' },
  'replication.rules[].filters': { description: 'Which repositories and tags the rule copies (names as they are here).' },
  'replication.rules[].filters.repositories': { description: 'Repository patterns (`*` any run of characters, `?` one). Names without a wildcard are copied without listing the remote\'s catalog (Docker Hub has none).' },
  'replication.rules[].filters.tags': { description: 'Tag patterns, as for repositories.' },
  'replication.rules[].filters.platforms': {
    description:
      'Of a multi-platform image (an index), only the images of these platforms (`linux/amd64`, `linux/arm64/v8`; no variant: any), in an index of their own whose digest is not the source\'s; unset: every platform.',
    example: ['linux/amd64', 'linux/arm64'],
  },
  'replication.rules[].trigger': { description: 'When the rule runs besides by hand.' },
  'replication.rules[].trigger.schedule': { description: 'A cron schedule, in UTC: five fields (minute hour day month weekday), or six with seconds first; one node of a cluster runs each firing.', example: '0 * * * *' },
  'replication.rules[].trigger.onpush': { description: 'Push rules: copy each tag the filters take as soon as it is pushed here.' },
  'replication.rules[].deletes': { description: 'Tags the source no longer has (within the filters) are deleted at the destination.' },
  'replication.rules[].parallel': { description: 'Blobs of one image copied at once.' },
  'replication.rules[].concurrency': { description: 'Images copied at once.' },
  'replication.rules[].bandwidth': { description: 'Bytes a second a run may send, all its images and blobs together (`50MiB`, `10MB`); none: no limit.', example: '50MiB' },
  'builds.user': {
    description:
      "The account builds run as (git, and buildah rootless in the account's subordinate ids, each in a PID namespace of its own), when berth runs as root: a RUN step that escapes its chroot is then that account, which cannot read berth's data directory or keys. The account needs /etc/subuid and /etc/subgid ranges (docs/builds.md). Without root, berth refuses to start with it set.",
    example: 'berth-build',
  },
};

/** The description of `path` as printed, with a note when its value is a secret. */
export function keyDescription(path: string): string {
  const description = KEY_DOCS[path]?.description ?? '';
  return SECRET_KEYS.includes(path) ? `${description} Secret: masked by \`berth config check\`.` : description;
}

/** An example of profiles, shown (commented out) at the end of the example config. */
export const PROFILES_EXAMPLE = {
  dev: { log: { level: 'debug' }, storage: { inmemory: {} } },
  prod: {
    http: {
      addr: ':443',
      host: 'https://registry.example.com',
      tls: { certificate: '/etc/berth/tls/cert.pem', key: '/etc/berth/tls/key.pem' },
    },
    storage: { filesystem: { rootdirectory: '/var/lib/berth' }, delete: { enabled: false } },
  },
} as const;
