// Section 18b's helpers: many small distinct images under one repository, pushed over HTTP, and
// the requests a berth answered, read from its own Prometheus counter.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { expectStatus, location, request } from './client.ts';
import { sha256 } from './payload.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

async function putBlob(base: URL, repo: string, data: Buffer, agent: http.Agent): Promise<string> {
  const digest = sha256(data);
  const what = `push ${digest.slice(0, 19)} to ${repo}`;
  const loc = location(expectStatus(await request('POST', new URL(`/v2/${repo}/blobs/uploads/`, base), { agent }), [202], what), base, what);
  loc.searchParams.set('digest', digest);
  expectStatus(await request('PUT', loc, { headers: { 'content-type': 'application/octet-stream', 'content-length': data.length }, body: data, agent }), [201], what);
  return digest;
}

/**
 * `count` tags t0000... in `repo`, each a distinct image: one shared config, a layer of its own of a
 * few bytes. Eight pushers at once. Returns the seconds it took.
 */
export async function seedManyTags(base: URL, repo: string, count: number): Promise<number> {
  const t0 = performance.now();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  try {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [{ created_by: 'berth bench' }] }));
    const configDigest = await putBlob(base, repo, config, agent);
    let next = 0;
    const pusher = async (): Promise<void> => {
      for (let i = next++; i < count; i = next++) {
        const tag = `t${String(i).padStart(4, '0')}`;
        const layer = Buffer.from(`${tag}\n`);
        const layerDigest = await putBlob(base, repo, layer, agent);
        const manifest = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_MANIFEST,
            config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
            layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
          }),
        );
        const res = await request('PUT', new URL(`/v2/${repo}/manifests/${tag}`, base), { headers: { 'content-type': OCI_MANIFEST, 'content-length': manifest.length }, body: manifest, agent });
        expectStatus(res, [201], `PUT manifest ${repo}:${tag}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, pusher));
  } finally {
    agent.destroy();
  }
  return (performance.now() - t0) / 1000;
}

export interface RequestCount {
  total: number;
  /** "route METHOD" to its count. */
  byRoute: Map<string, number>;
}

const LINE = /^berth_http_requests_total\{([^}]*)\} ([0-9.e+]+)$/gm;

/**
 * The requests a berth answered, from its `berth_http_requests_total` (summed over statuses), its
 * metrics scrapes left out; with `since`, the difference from that earlier reading.
 */
export async function sourceRequests(base: URL, since?: RequestCount): Promise<RequestCount> {
  const res = expectStatus(await request('GET', new URL('/metrics', base), { maxBody: 64 << 20 }), [200], 'GET /metrics');
  const byRoute = new Map<string, number>();
  for (const m of res.body.toString('utf8').matchAll(LINE)) {
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (labels.route === 'metrics') continue;
    const key = `${labels.route ?? '?'} ${labels.method ?? '?'}`;
    byRoute.set(key, (byRoute.get(key) ?? 0) + Number(m[2]));
  }
  if (since !== undefined) {
    for (const [k, n] of since.byRoute) byRoute.set(k, (byRoute.get(k) ?? 0) - n);
    for (const [k, n] of byRoute) if (n === 0) byRoute.delete(k);
  }
  let total = 0;
  for (const n of byRoute.values()) total += n;
  return { total, byRoute };
}
