/**
 * What the replication e2e tests share: their world (a berth upstream with images, distribution
 * 2.8.2 with htpasswd, a notification receiver, and the config of the berth under test), images
 * pushed with their digests remembered, a tag's digest at a registry, and the
 * replication.completed notifications the receiver got.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { copyImage } from '../../src/copy/engine.ts';
import { ociLayoutSource } from '../../src/copy/oci-layout.ts';
import { openRegistryDestination } from '../../src/copy/registry-transport.ts';
import { TestReceiver } from '../../src/events/test-receiver.ts';
import { writeMultiArchLayout, writeSingleArchLayout, type MultiArchLayout } from '../fixtures/oci.ts';
import { startTestRegistry, type TestRegistry } from './inproc.ts';
import { startDistribution, type Distribution } from './mirror.ts';

export interface RunView {
  id: number;
  rule: string;
  trigger: string;
  status: string;
  scope: string | null;
  copied: number;
  skipped: number;
  failed: number;
  deleted: number;
  bytes: number;
  failures: { what: string; reason: string }[];
}

export interface ReplicationEvent {
  action: string;
  target: { repository: string; tag?: string; replication?: { rule: string; run: number; trigger: string; status: string } };
}

export const hostOf = (url: string): string => url.replace(/^http:\/\//, '');

/** Images of their own pushed with berth's copy engine, each digest kept by repository:tag. */
export class TestImages {
  readonly digests = new Map<string, string>();

  constructor(private readonly dir: string) {}

  async push(url: string, repository: string, tag: string): Promise<string> {
    const layout = await writeSingleArchLayout(path.join(this.dir, `${repository.replaceAll('/', '_')}-${tag}`), { tag, label: `${repository}:${tag}` });
    const dst = await openRegistryDestination(`docker://${hostOf(url)}/${repository}:${tag}`, { uploadStateDir: false });
    const result = await copyImage(ociLayoutSource(layout.dir, tag), dst, { tag });
    await dst.close();
    this.digests.set(`${repository}:${tag}`, result.digest);
    return result.digest;
  }

  /** An index of one image for each of `architectures` (linux), as repository:tag. */
  async pushIndex(url: string, repository: string, tag: string, architectures: string[]): Promise<MultiArchLayout> {
    const layout = await writeMultiArchLayout(path.join(this.dir, `${repository.replaceAll('/', '_')}-${tag}`), { tag, label: `${repository}:${tag}`, architectures });
    const dst = await openRegistryDestination(`docker://${hostOf(url)}/${repository}:${tag}`, { uploadStateDir: false });
    const result = await copyImage(ociLayoutSource(layout.dir, tag), dst, { all: true, tag });
    await dst.close();
    this.digests.set(`${repository}:${tag}`, result.digest);
    return layout;
  }
}

/** The digest `url` serves for repository:tag, or null (`auth`: user:password). */
export async function digestAt(url: string, repository: string, tag: string, auth?: string): Promise<string | null> {
  const res = await fetch(`${url}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json', ...(auth !== undefined && { authorization: `Basic ${Buffer.from(auth).toString('base64')}` }) },
  });
  return res.status === 200 ? res.headers.get('docker-content-digest') : null;
}

/** The replication.completed events `receiver` got. */
export function replicationEvents(receiver: TestReceiver): ReplicationEvent[] {
  return receiver.requests.flatMap((r) => (JSON.parse(r.body) as { events: ReplicationEvent[] }).events).filter((e) => e.action === 'replication.completed');
}

/** The first replication.completed event that `match` takes, once it came. */
export async function completedEvent(receiver: TestReceiver, match: (e: ReplicationEvent) => boolean): Promise<ReplicationEvent> {
  await receiver.waitFor('a replication.completed event', () => replicationEvents(receiver).some(match), 30_000);
  const e = replicationEvents(receiver).find(match);
  assert.ok(e);
  return e;
}

/** The remotes and the config of a berth under test that replicates between them. */
export interface ReplicationWorld {
  upstream: TestRegistry;
  dist: Distribution;
  receiver: TestReceiver;
  images: TestImages;
  /** The storage root and the config file of the berth under test (started by the test). */
  root: string;
  configFile: string;
  stop(): Promise<void>;
}

/**
 * Start the remotes in `work`, push `seed` (repository, tag) to the upstream berth, and write a
 * config with `rules` (given the remotes) whose notifications go to the receiver.
 */
export async function startReplicationWorld(work: string, seed: readonly (readonly [string, string])[], rules: (remotes: { upstream: TestRegistry; dist: Distribution }) => unknown[]): Promise<ReplicationWorld> {
  const images = new TestImages(path.join(work, 'images'));
  const [upstream, dist, receiver] = await Promise.all([startTestRegistry(), startDistribution(), TestReceiver.start()]);
  for (const [repo, tag] of seed) await images.push(upstream.url, repo, tag);
  const root = path.join(work, 'root');
  const configFile = path.join(work, 'config.yml');
  await fs.writeFile(
    configFile,
    stringify({
      version: '0.1',
      storage: { filesystem: { rootdirectory: root } },
      notifications: { endpoints: [{ name: 'watch', url: receiver.url, backoff: '10ms', ignore: { actions: ['pull', 'push', 'mount'] } }] },
      replication: { rules: rules({ upstream, dist }) },
    }),
  );
  return {
    upstream,
    dist,
    receiver,
    images,
    root,
    configFile,
    stop: async () => {
      await Promise.allSettled([upstream.stop(), dist.stop(), receiver.down()]);
    },
  };
}
