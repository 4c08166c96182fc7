/**
 * A registry with access control and real content for the web UI's browser tests (test/ui/):
 * users admin (the administrator; berth reserves the name root), alice and bob, organisation acme
 * with team devs; images pushed over HTTP with Basic credentials, settings and descriptions set
 * through the JSON API (/api/v1), as a user of the registry would. Only the first administrator is
 * made through the library (the registry is open until a user exists).
 *
 *   alice/web      public: 1.0, 1.1 and latest (= 1.1), each with entrypoint, cmd, env, labels,
 *                  exposed ports, volumes and a history; multi (an index of linux/amd64 and
 *                  linux/arm64); a signature (artifact type NOTARY_SIGNATURE) whose subject is 1.0;
 *                  a short description and a Markdown README carrying a script and an onerror payload
 *   alice/secret   private
 *   nginx          public, official (a one-component name, pushed by admin)
 *   acme/app       public, in organisation acme (owner alice; team devs: bob, read)
 *   bob/tools      public
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { SYSTEM } from '../../src/auth/principal.ts';
import { api, type ApiAnswer } from './api.ts';
import { startAuthRegistry, expectAccessControl, type AuthRegistry } from './auth.ts';
import { AuthClient, type Credentials } from './auth-client.ts';
import { OCI_INDEX, OCI_MANIFEST, sha256, type Descriptor } from './client.ts';
import { tar } from '../fixtures/tar.ts';

export const USERS = {
  admin: { user: 'admin', password: 'admin-password-1' },
  alice: { user: 'alice', password: 'alice-password-1' },
  bob: { user: 'bob', password: 'bob-password-1' },
} satisfies Record<string, Credentials>;

/** What the seeded alice/web images say, for assertions on what the UI shows. */
export const WEB = {
  description: 'A tiny static web server for tests',
  readmeHeading: 'Running the web server',
  entrypoint: '/docker-entrypoint.sh',
  cmd: ['web-server', '--port', '8080'],
  labelKey: 'com.example.team',
  labelValue: 'frontend-crew',
  env: 'WEB_ROOT=/srv/web',
  port: '8080/tcp',
  historyStep: 'RUN /bin/sh -c apk add --no-cache web-server # buildkit',
  tags: ['1.0', '1.1', 'latest', 'multi'],
} as const;

export const NOTARY_SIGNATURE = 'application/vnd.cncf.notary.signature';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
const CREATED = '2025-03-01T12:00:00Z';

/**
 * The README of alice/web: Markdown with a heading, a list, code and a table, and two payloads a
 * sanitiser must neutralise. Either one, if it ran, would set window.__pwned.
 */
export const README = [
  `# ${WEB.readmeHeading}`,
  '',
  'Serve a directory over HTTP on port 8080:',
  '',
  '```sh',
  'docker run -p 8080:8080 -v "$PWD:/srv/web" alice/web:1.1',
  '```',
  '',
  '## Options',
  '',
  '| Variable | Default |',
  '| --- | --- |',
  '| `WEB_ROOT` | `/srv/web` |',
  '',
  '- small',
  '- **fast**',
  '',
  '<script>window.__pwned = "script"</script>',
  '',
  '<img src="pwned.png" alt="payload" onerror="window.__pwned = \'onerror\'">',
  '',
  '[Project page](https://example.com/web)',
  '',
].join('\n');

export interface PushedImage {
  descriptor: Descriptor;
  configDigest: string;
  /** The manifest as pushed, to tag it again. */
  manifest: object;
}

export interface Seeded {
  reg: AuthRegistry;
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT */
  host: string;
  web: { '1.0': PushedImage; '1.1': PushedImage; multi: Descriptor; signature: Descriptor };
  /** The management API with Basic credentials (or none). */
  call: ReturnType<typeof api>;
  stop(): Promise<void>;
}

/** An image the way docker build makes one: three layers, a full config and a history with empty layers. */
function webImage(version: string, architecture = 'amd64'): { config: Buffer; layers: Buffer[] } {
  const tars = [
    tar([{ name: 'etc/' }, { name: 'etc/os-release', content: `NAME="berth test base"\nARCH=${architecture}\n` }]),
    tar([{ name: 'usr/' }, { name: 'usr/bin/' }, { name: 'usr/bin/web-server', content: `#!/bin/sh\necho web-server ${version}\n`, mode: 0o755 }]),
    tar([{ name: 'docker-entrypoint.sh', content: '#!/bin/sh\nexec "$@"\n', mode: 0o755 }, { name: 'srv/' }, { name: 'srv/web/' }, { name: 'srv/web/index.html', content: `<h1>web ${version}</h1>\n` }]),
  ];
  const config = Buffer.from(
    JSON.stringify({
      created: CREATED,
      author: 'Alice <alice@example.com>',
      architecture,
      os: 'linux',
      config: {
        User: 'www-data',
        ExposedPorts: { [WEB.port]: {} },
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', WEB.env, `WEB_VERSION=${version}`],
        Entrypoint: [WEB.entrypoint],
        Cmd: [...WEB.cmd],
        WorkingDir: '/srv/web',
        Volumes: { '/srv/web/data': {} },
        Labels: {
          'org.opencontainers.image.title': 'web',
          'org.opencontainers.image.version': version,
          [WEB.labelKey]: WEB.labelValue,
        },
        StopSignal: 'SIGQUIT',
      },
      rootfs: { type: 'layers', diff_ids: tars.map((t) => sha256(t)) },
      history: [
        { created: CREATED, created_by: '/bin/sh -c #(nop) ADD file:4bc2a6c3d0e1 in / ' },
        { created: CREATED, created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
        { created: CREATED, created_by: WEB.historyStep, comment: 'buildkit.dockerfile.v0' },
        { created: CREATED, created_by: 'COPY docker-entrypoint.sh / # buildkit', comment: 'buildkit.dockerfile.v0' },
        { created: CREATED, created_by: `EXPOSE map[${WEB.port}:{}]`, comment: 'buildkit.dockerfile.v0', empty_layer: true },
        { created: CREATED, created_by: `ENTRYPOINT ["${WEB.entrypoint}"]`, comment: 'buildkit.dockerfile.v0', empty_layer: true },
      ],
    }),
  );
  return { config, layers: tars.map((t) => gzipSync(t, { level: 6 })) };
}

/** Pushes blobs and manifests with Basic credentials, failing loudly on any refusal. */
class Pusher {
  private readonly client: AuthClient;
  constructor(base: string, creds: Credentials) {
    this.client = new AuthClient(base, creds, 'basic');
  }

  async blob(repo: string, data: Buffer | string, mediaType: string): Promise<Descriptor> {
    return this.client.pushBlob(repo, data, mediaType);
  }

  async manifest(repo: string, reference: string, manifest: object, mediaType: string): Promise<Descriptor> {
    const body = JSON.stringify(manifest);
    const digest = sha256(body);
    const res = await this.client.putManifest(repo, reference === '' ? digest : reference, manifest, mediaType);
    assert.equal(res.status, 201, `PUT /v2/${repo}/manifests/${reference || digest}: ${res.status} ${await res.text()}`);
    return { mediaType, digest, size: Buffer.byteLength(body) };
  }

  /** An image (config + layers + manifest) under `tag`, or by digest when tag is ''. */
  async image(repo: string, tag: string, image: ReturnType<typeof webImage>): Promise<PushedImage> {
    const config = await this.blob(repo, image.config, OCI_CONFIG);
    const layers: Descriptor[] = [];
    for (const data of image.layers) layers.push(await this.blob(repo, data, OCI_LAYER));
    const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers };
    const descriptor = await this.manifest(repo, tag, manifest, OCI_MANIFEST);
    return { descriptor, configDigest: config.digest, manifest };
  }

  /** A small plain image, for repositories whose content does not matter. */
  async simple(repo: string, tag: string): Promise<PushedImage> {
    return this.image(repo, tag, webImage(`${repo}:${tag}`));
  }
}

function expectStatus(answer: ApiAnswer, status: number, what: string): void {
  assert.equal(answer.status, status, `${what}: ${answer.status} ${answer.text}`);
}

/** Starts berth with access control and the content above. Takes a few seconds (password hashing). */
export async function seedRegistry(): Promise<Seeded> {
  const reg = await startAuthRegistry();
  try {
    await reg.accounts.createUser(SYSTEM, USERS.admin.user, USERS.admin.password, true);
    await expectAccessControl(reg);
    const call = api(reg.url);
    const { admin, alice, bob } = USERS;
    for (const who of [alice, bob]) expectStatus(await call('POST', '/api/v1/users', { as: admin, body: { name: who.user, password: who.password } }), 201, `create ${who.user}`);
    expectStatus(await call('POST', '/api/v1/orgs', { as: alice, body: { name: 'acme' } }), 201, 'create acme');
    expectStatus(await call('POST', '/api/v1/orgs/acme/teams', { as: alice, body: { name: 'devs' } }), 201, 'create team devs');
    expectStatus(await call('PUT', '/api/v1/orgs/acme/teams/devs/members/bob', { as: alice }), 204, 'bob joins devs');
    expectStatus(await call('PUT', '/api/v1/orgs/acme/teams/devs/permissions', { as: alice, body: { repository: 'acme/app', role: 'read' } }), 204, 'devs read acme/app');

    const asAlice = new Pusher(reg.url, alice);
    const v10 = await asAlice.image('alice/web', '1.0', webImage('1.0'));
    const v11 = await asAlice.image('alice/web', '1.1', webImage('1.1'));
    await asAlice.manifest('alice/web', 'latest', v11.manifest, OCI_MANIFEST);
    const children: Descriptor[] = [];
    for (const architecture of ['amd64', 'arm64']) {
      const child = await asAlice.image('alice/web', '', webImage('2.0-multi', architecture));
      children.push({ ...child.descriptor, platform: { os: 'linux', architecture } });
    }
    const multi = await asAlice.manifest('alice/web', 'multi', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: children }, OCI_INDEX);
    const empty = await asAlice.blob('alice/web', '{}', OCI_EMPTY);
    const envelope = await asAlice.blob('alice/web', JSON.stringify({ payload: 'eyJ0YXJnZXRBcnRpZmFjdCI6e319', signatures: [] }), 'application/jose+json');
    const signature = await asAlice.manifest(
      'alice/web',
      '',
      {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: NOTARY_SIGNATURE,
        config: { ...empty, data: 'e30=' },
        layers: [envelope],
        subject: v10.descriptor,
        annotations: { 'org.opencontainers.image.created': CREATED },
      },
      OCI_MANIFEST,
    );
    expectStatus(
      await call('PATCH', '/api/v1/repositories/alice/web', { as: alice, body: { visibility: 'public', description: WEB.description, fullDescription: README } }),
      200,
      'describe alice/web',
    );

    await asAlice.simple('alice/secret', '1.0');
    expectStatus(await call('PATCH', '/api/v1/repositories/alice/secret', { as: alice, body: { description: 'Private things of alice' } }), 200, 'describe alice/secret');
    await asAlice.simple('acme/app', '3.2');
    expectStatus(await call('PATCH', '/api/v1/repositories/acme/app', { as: alice, body: { visibility: 'public', description: 'The acme application' } }), 200, 'describe acme/app');

    await new Pusher(reg.url, admin).simple('nginx', 'latest');
    expectStatus(await call('PATCH', '/api/v1/repositories/nginx', { as: admin, body: { visibility: 'public', description: 'Official build of a web server' } }), 200, 'describe nginx');
    await new Pusher(reg.url, bob).simple('bob/tools', '0.1');
    expectStatus(await call('PATCH', '/api/v1/repositories/bob/tools', { as: bob, body: { visibility: 'public', description: "Bob's tool box" } }), 200, 'describe bob/tools');

    return { reg, url: reg.url, host: reg.host, web: { '1.0': v10, '1.1': v11, multi, signature }, call, stop: () => reg.stop() };
  } catch (err) {
    await reg.stop();
    throw err;
  }
}
