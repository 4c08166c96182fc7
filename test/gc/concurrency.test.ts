/**
 * Garbage collection racing a registry in use (issue 15): workers push images (sharing base
 * layers that deletes leave unreferenced again and again), delete them, and mount layers between
 * repositories, while collections run back to back with a one-second grace, inside the server
 * (POST /api/v1/admin/gc) and beside it (`berth gc`, another process on the same SQLite file).
 * The race lasts a few seconds and until enough of each happened (a loaded machine is slower),
 * within a hard bound; then a last `berth gc` with no grace, and everything acknowledged is
 * pulled back: 0 lost, 0 corrupt, and nothing left on disk that no live image references. A push
 * the collector beat (a base layer freed between the client's HEAD and its manifest PUT) is
 * refused with MANIFEST_BLOB_UNKNOWN, never acknowledged.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { blobDataPath } from '../../src/storage/paths.ts';
import { api } from '../helpers/api.ts';
import { OCI_MANIFEST, sha256, type Descriptor } from '../helpers/client.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { run } from '../helpers/process.ts';

/** How long the workers and collections race at least, and at most (it goes on until enough happened). */
const RACE_MS = 5_000;
const RACE_LIMIT_MS = 60_000;
/** What each worker does at least before it stops, and what the collections free during the race. */
const ENOUGH = { pushed: 6, deleted: 2, mounted: 2 };
const WORKERS = 3;
const REPOS = ['race/a', 'race/b', 'race/c'];
/** Base layers shared by many images: deleting the last image of one leaves it to the collector. */
const BASES = ['base one', 'base two', 'base three', 'base four'].map((s) => Buffer.from(s));
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const CONFIG = 'application/vnd.oci.image.config.v1+json';
/** Every request's bound: a hang fails the test, it does not stall CI. */
const REQUEST_MS = 30_000;

interface Image {
  repo: string;
  tag: string;
  digest: string;
  blobs: Descriptor[];
}

/** When the race ends: its minimum time has passed and enough happened, or its limit. */
class Race {
  private readonly start = Date.now();
  workers = WORKERS;

  constructor(readonly tally: Tally) {}

  /** Whether a worker that did `own` may stop. */
  workerDone(own: { pushed: number; deleted: number; mounted: number }): boolean {
    if (Date.now() - this.start > RACE_LIMIT_MS) return true;
    const enough = own.pushed >= ENOUGH.pushed && own.deleted >= ENOUGH.deleted && own.mounted >= ENOUGH.mounted;
    return enough && Date.now() - this.start >= RACE_MS && this.tally.freedBlobs > 0 && this.tally.freedManifests > 0;
  }

  /** Whether the collections may stop: every worker has. */
  get over(): boolean {
    return this.workers === 0;
  }
}

interface Tally {
  pushed: number;
  refused: number;
  deleted: number;
  mounted: number;
  /** Mounts answered 202 (an upload instead): the source image was deleted and its layer collected meanwhile. */
  mountsRefused: number;
  collections: number;
  freedBlobs: number;
  freedManifests: number;
}

class Api {
  /** Each request's time to its answer's headers (ms), printed: what the collections cost the clients. */
  readonly latencies: number[] = [];

  constructor(readonly base: string) {}

  async fetch(p: string, init: RequestInit = {}): Promise<Response> {
    const start = performance.now();
    const res = await fetch(p.startsWith("http") ? p : this.base + p, { ...init, signal: AbortSignal.timeout(REQUEST_MS) });
    this.latencies.push(performance.now() - start);
    return res;
  }

  percentiles(): string {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1);
    return `${sorted.length} requests, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`;
  }

  async ensureBlob(repo: string, data: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = sha256(data);
    const head = await this.fetch(`/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
    // as real clients do: a blob the registry has is not uploaded again
    if (head.status !== 200) {
      const res = await this.fetch(`/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: new Uint8Array(data), headers: { 'Content-Type': 'application/octet-stream' } });
      if (res.status !== 201) throw new Error(`upload ${digest} to ${repo}: ${res.status} ${await res.text()}`);
    }
    return { mediaType, digest, size: data.length };
  }

  /** PUT a manifest of these blobs; the image, or undefined when refused for a blob the collector took meanwhile. */
  async putImage(repo: string, tag: string, config: Descriptor, layers: Descriptor[]): Promise<Image | undefined> {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers });
    const res = await this.fetch(`/v2/${repo}/manifests/${tag}`, { method: 'PUT', body, headers: { 'Content-Type': OCI_MANIFEST } });
    if (res.status === 201) return { repo, tag, digest: sha256(body), blobs: [config, ...layers] };
    const text = await res.text();
    if (res.status === 400 && text.includes('MANIFEST_BLOB_UNKNOWN')) return undefined;
    throw new Error(`PUT ${repo}:${tag}: ${res.status} ${text}`);
  }
}

/** A small deterministic generator, so a failure can be replayed with its seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One worker: its own tags (so each tag's writes are in order), pushes, deletes and mounts until the race ends. */
async function worker(id: number, client: Api, race: Race, live: Map<string, Image>, seen: Set<string>): Promise<void> {
  try {
    await work(id, client, race, live, seen);
  } finally {
    race.workers--;
  }
}

/** Every unique layer's bytes, to push one whose mount was refused. */
const bytes = new Map<string, Buffer>();

async function work(id: number, client: Api, race: Race, live: Map<string, Image>, seen: Set<string>): Promise<void> {
  const { tally } = race;
  const own = { pushed: 0, deleted: 0, mounted: 0 };
  const random = prng(0x5eed + id);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const mine = () => [...live.values()].filter((i) => i.tag.startsWith(`w${id}-`));
  let n = 0;
  while (!race.workerDone(own)) {
    n++;
    const roll = random();
    const images = mine();
    if (roll < 0.25 && images.length > 0) {
      // delete an image by digest: its unique layer and config become garbage, its base maybe
      const image = pick(images);
      const res = await client.fetch(`/v2/${image.repo}/manifests/${image.digest}`, { method: 'DELETE' });
      assert.equal(res.status, 202, `delete ${image.repo}@${image.digest}`);
      live.delete(`${image.repo}:${image.tag}`);
      tally.deleted++;
      own.deleted++;
      continue;
    }
    const repo = pick(REPOS);
    const tag = `w${id}-t${Math.floor(random() * 4)}`;
    const config = await client.ensureBlob(repo, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', worker: id, n, nonce: randomBytes(8).toString('hex') })), CONFIG);
    let layers: Descriptor[];
    const everyone = [...live.values()];
    if (roll < 0.45 && everyone.length > 0) {
      // mount an image's own layer into this repository, then reference it: another worker may be deleting that image
      const from = pick(everyone);
      const layer = from.blobs[from.blobs.length - 1] as Descriptor;
      const res = await client.fetch(`/v2/${repo}/blobs/uploads/?mount=${layer.digest}&from=${from.repo}`, { method: 'POST' });
      await res.arrayBuffer();
      if (from.tag.startsWith(`w${id}-`)) {
        // this worker's image is live (only it deletes its images), so its layer must be there to mount
        assert.equal(res.status, 201, `mount ${layer.digest} from ${from.repo} into ${repo}: ${res.status}`);
      } else if (res.status === 202) {
        // gone meanwhile: as a client does, drop the upload the registry opened instead and push the bytes
        const session = await client.fetch(res.headers.get('location') ?? '', { method: 'DELETE' });
        assert.equal(session.status, 204);
        await client.ensureBlob(repo, bytes.get(layer.digest) ?? Buffer.alloc(0), LAYER);
        tally.mountsRefused++;
      } else assert.equal(res.status, 201, `mount ${layer.digest} from ${from.repo} into ${repo}: ${res.status}`);
      tally.mounted++;
      own.mounted++;
      layers = [await client.ensureBlob(repo, pick(BASES), LAYER), layer];
    } else {
      const data = randomBytes(256 + Math.floor(random() * 4096));
      bytes.set(sha256(data), data);
      layers = [await client.ensureBlob(repo, pick(BASES), LAYER), await client.ensureBlob(repo, data, LAYER)];
    }
    for (const b of [config, ...layers]) seen.add(b.digest);
    const image = await client.putImage(repo, tag, config, layers);
    if (image === undefined) {
      tally.refused++;
      continue;
    }
    seen.add(image.digest);
    // a moved tag leaves the image it named untagged, which the collector deletes (untagged: delete)
    live.set(`${repo}:${tag}`, image);
    tally.pushed++;
    own.pushed++;
  }
}

/** Collections inside the server, back to back, until the race is over (at least one). */
async function collectInServer(base: string, race: Race): Promise<void> {
  const { tally } = race;
  do {
    const res = await api(base)('POST', '/api/v1/admin/gc', { body: {} });
    assert.equal(res.status, 200, res.text);
    const report = res.body as { blobs: number; manifests: number; errors: string[] };
    assert.deepEqual(report.errors, []);
    tally.collections++;
    tally.freedBlobs += report.blobs;
    tally.freedManifests += report.manifests;
  } while (!race.over);
}

/** `berth gc` runs, one after the other, until the race is over (at least one). */
async function collectBeside(configFile: string, race: Race): Promise<void> {
  const { tally } = race;
  do {
    const r = await run(process.execPath, ['bin/berth.js', 'gc', '--config', configFile, '--json'], {
      timeout: 60_000,
      env: { BERTH_FROM_SOURCE: '1', REGISTRY_CONFIGURATION_PATH: undefined, REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: undefined },
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const report = JSON.parse(r.stdout) as { blobs: number; manifests: number };
    tally.collections++;
    tally.freedBlobs += report.blobs;
    tally.freedManifests += report.manifests;
  } while (!race.over);
}

describe('garbage collection racing pushes, deletes and mounts', { timeout: 120_000 }, () => {
  let reg: TestRegistry;
  /** `berth gc`'s configs: the server's, and the same with no grace for the last run. */
  let racing: string;
  let last: string;
  const config = (grace: string) => ({ storage: { delete: { enabled: true }, gc: { grace, interval: '0', untagged: 'delete' as const } } });

  before(async () => {
    reg = await startTestRegistry({ config: config('1s') });
    const root = reg.root ?? '';
    const write = async (name: string, grace: string) => {
      const file = path.join(root, name);
      await fs.writeFile(file, JSON.stringify({ storage: { ...config(grace).storage, filesystem: { rootdirectory: root } } }));
      return file;
    };
    racing = await write('gc.yml', '1s');
    last = await write('gc-now.yml', '0');
  });
  after(() => reg?.stop());

  it('loses nothing acknowledged and frees what the deletes left', async () => {
    const client = new Api(reg.url);
    const live = new Map<string, Image>();
    const seen = new Set<string>();
    const tally: Tally = { pushed: 0, refused: 0, deleted: 0, mounted: 0, mountsRefused: 0, collections: 0, freedBlobs: 0, freedManifests: 0 };
    const race = new Race(tally);
    await Promise.all([
      ...Array.from({ length: WORKERS }, (_, id) => worker(id, client, race, live, seen)),
      collectInServer(reg.url, race),
      collectBeside(racing, race),
    ]);
    const during = client.percentiles();
    // so that a run that raced nothing could not pass
    assert.ok(tally.pushed >= WORKERS * ENOUGH.pushed && tally.deleted >= WORKERS * ENOUGH.deleted && tally.mounted >= WORKERS * ENOUGH.mounted, `too little happened: ${JSON.stringify(tally)}`);
    assert.ok(tally.freedBlobs > 0 && tally.freedManifests > 0, `nothing collected during the race: ${JSON.stringify(tally)}`);
    // one more collection, with no grace and nothing racing it, frees the rest
    await collectBeside(last, race);

    const lost: string[] = [];
    const corrupt: string[] = [];
    for (const image of live.values()) {
      const res = await client.fetch(`/v2/${image.repo}/manifests/${image.tag}`, { headers: { Accept: OCI_MANIFEST } });
      if (res.status !== 200) {
        lost.push(`${image.repo}:${image.tag} (${res.status})`);
        continue;
      }
      if (sha256(Buffer.from(await res.arrayBuffer())) !== image.digest) corrupt.push(`${image.repo}:${image.tag}`);
      for (const b of image.blobs) {
        const blob = await client.fetch(`/v2/${image.repo}/blobs/${b.digest}`);
        if (blob.status !== 200) lost.push(`${image.repo}@${b.digest} (${blob.status})`);
        else if (sha256(Buffer.from(await blob.arrayBuffer())) !== b.digest) corrupt.push(`${image.repo}@${b.digest}`);
      }
    }
    assert.deepEqual({ lost, corrupt }, { lost: [], corrupt: [] }, JSON.stringify(tally));

    // what deletes, moved tags and refused pushes left behind is gone from disk: whatever no live image references
    const referenced = new Set([...live.values()].flatMap((i) => [i.digest, ...i.blobs.map((b) => b.digest)]));
    const gone = [...seen].filter((d) => !referenced.has(d));
    const stillThere: string[] = [];
    for (const digest of gone) {
      const [algorithm = '', hex = ''] = digest.split(':');
      if (await fs.stat(path.join(reg.root ?? '', blobDataPath(algorithm, hex))).then(() => true, () => false)) stillThere.push(digest);
    }
    assert.deepEqual(stillThere, [], `left on disk after the last collection; ${JSON.stringify(tally)}`);
    process.stdout.write(`# race: ${JSON.stringify({ ...tally, live: live.size, freedChecked: gone.length })}; ${during}\n`);
  });
});
