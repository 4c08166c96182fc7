// 11. A cluster (issue 14): manifest GET by tag at 64 connections through nginx
// (deploy/cluster/nginx.conf, its upstreams rewritten) to one berth node and to three, all on one
// PostgreSQL and one Ceph RGW bucket; beside distribution 2.8.2 on the same RGW behind the same
// nginx configuration, and nginx serving the manifest as a static file (the machine's ceiling).
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alternate } from './alternate.ts';
import { startBerthOn, startDistributionOn, type Postgres, type Rgw } from './backends.ts';
import { request, waitForHttp } from './client.ts';
import type { BenchConfig } from './config.ts';
import { errMsg, log, MIB } from './context.ts';
import { runLoad } from './http-load.ts';
import { peakRssBytes, startProc, stopProc, type Proc } from './procs.ts';
import { loadPaths, makeSeed, MANIFEST_ACCEPT, seedRegistry } from './seed.ts';
import { freePort, REPO_ROOT, type Server } from './servers.ts';
import { Section } from './table.ts';

const NGINX_CONFIG = join(REPO_ROOT, 'deploy', 'cluster', 'nginx.conf');
const STATIC = '/static/manifest';

/** nginx with the deploy file, its upstream servers replaced by `upstreams`, plus a static copy of the manifest. */
async function startBalancer(work: string, label: string, upstreams: URL[], manifestFile: string, procs: Proc[]): Promise<URL> {
  const prefix = join(work, label);
  mkdirSync(prefix, { recursive: true });
  for (const dir of [work, prefix]) chmodSync(dir, 0o755);
  const port = await freePort();
  let conf = readFileSync(NGINX_CONFIG, 'utf8').replace('listen 127.0.0.1:5000;', `listen 127.0.0.1:${port};`);
  conf = conf.replace(/^\s*server 127\.0\.0\.1:500[1-3] .*\n/gm, '');
  conf = conf.replace('    keepalive 32;', [...upstreams.map((u) => `    server ${u.host} max_fails=1 fail_timeout=5s;`), '    keepalive 32;'].join('\n'));
  conf = conf.replace(
    '    location / {',
    `    location = ${STATIC} {\n      default_type application/vnd.oci.image.manifest.v1+json;\n      alias ${manifestFile};\n    }\n\n    location / {`,
  );
  if (/127\.0\.0\.1:500[0-3]\b/.test(conf)) throw new Error(`${NGINX_CONFIG}: an address was not rewritten`);
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const proc = startProc(label, '/usr/sbin/nginx', ['-p', `${prefix}/`, '-c', 'nginx.conf']);
  procs.push(proc);
  const base = new URL(`http://127.0.0.1:${port}/`);
  await waitForHttp(new URL(STATIC, base), 15_000, () => (proc.exited() ? `${label}: ${proc.tail()}` : null));
  return base;
}

function fail(): never {
  throw new Error('no node started');
}

interface Target {
  key: string;
  url: URL;
}

export interface ClusterDeps {
  cfg: BenchConfig;
  started: number;
  work: string;
  rgw: Rgw;
  pg: Postgres;
}

export async function clusterSection(d: ClusterDeps): Promise<Section> {
  const { rgw, pg } = d;
  const sec = new Section(
    '12. Cluster: manifest GET by tag through nginx, one berth node vs three',
    [
      { key: 'one', label: 'berth, 1 node' },
      { key: 'three', label: 'berth, 3 nodes' },
      { key: 'distribution', label: 'distribution 2.8.2, 1 node' },
      { key: 'nginx', label: 'nginx (static file)' },
    ],
    { num: 'three', den: 'one', label: '3 nodes / 1 node' },
  );
  await rgw.createBucket('cluster-berth');
  await rgw.createBucket('cluster-distribution');
  const pgUrl = await pg.createDatabase('cluster');
  const procs: Proc[] = [];
  try {
    return await measure(d, sec, pgUrl, procs);
  } finally {
    for (const p of procs.reverse()) await stopProc(p);
  }
}

async function measure(d: ClusterDeps, sec: Section, pgUrl: string, procs: Proc[]): Promise<Section> {
  const { cfg, rgw, work } = d;
  const seed = makeSeed(cfg.tags, 0);
  const manifestFile = join(work, 'cluster-manifest.json');
  writeFileSync(manifestFile, seed.manifest.data);
  const backend = { s3: { rgw, bucket: 'cluster-berth', redirect: true }, pgUrl };
  // The first node migrates the schema; the others start on it.
  const nodes: Server[] = [await startBerthOn(work, 'cluster-node1', backend)];
  procs.push(nodes[0]?.proc ?? fail());
  for (const n of await Promise.all([2, 3].map((i) => startBerthOn(work, `cluster-node${i}`, backend)))) {
    nodes.push(n);
    procs.push(n.proc);
  }
  const distribution = await startDistributionOn(work, 'cluster-distribution', rgw, 'cluster-distribution', true);
  procs.push(distribution.proc);
  const one = await startBalancer(work, 'nginx-one', nodes.slice(0, 1).map((n) => n.base), manifestFile, procs);
  const three = await startBalancer(work, 'nginx-three', nodes.map((n) => n.base), manifestFile, procs);
  const dist = await startBalancer(work, 'nginx-distribution', [distribution.base], manifestFile, procs);
  sec.notes.push(
    `Every node: deploy/cluster/berth.yml's settings (PostgreSQL on 127.0.0.1, blobs in an RGW bucket, redirect on), log level warn, access log off. ` +
      `nginx: deploy/cluster/nginx.conf (2 workers, keepalive 32 to the upstreams), one instance per column; the static column is the same nginx serving the manifest from a file. ` +
      `Seeded through nginx: bench/app (OCI manifest, config + 64 KiB layer) with ${cfg.tags} tags. ` +
      `wrk -t2 -c64, ${cfg.loadSeconds} s per run after a warm-up of ${cfg.warmupSeconds} s per node, latency in ms. ` +
      'All of it (wrk, nginx, the nodes, PostgreSQL, RGW) shares this machine\'s cores: three nodes add processes, not CPUs.',
  );

  const path = loadPaths(seed).manifest;
  const rps = 'GET manifest by tag, c=64: req/s';
  const seedMetric = `setup: seed ${cfg.tags} tags through nginx (s, 1 run)`;
  const targets: Target[] = [];
  for (const [key, base, srv] of [
    ['three', three, nodes[0]],
    ['distribution', dist, distribution],
  ] as const) {
    if (!srv) continue;
    try {
      const t0 = Date.now();
      await seedRegistry({ ...srv, base }, seed);
      sec.add(seedMetric, key, (Date.now() - t0) / 1000);
    } catch (err) {
      sec.fail(seedMetric, key, errMsg(err));
      log(d, `cluster: seeding ${key} FAILED: ${errMsg(err)}`);
    }
  }
  sec.row(rps);
  for (const [key, url] of [
    ['one', new URL(path, one)],
    ['three', new URL(path, three)],
    ['distribution', new URL(path, dist)],
    ['nginx', new URL(STATIC, one)],
  ] as const) {
    const res = await request('GET', url, { headers: { Accept: MANIFEST_ACCEPT } }).catch((err: unknown) => errMsg(err));
    if (typeof res === 'string' || res.status !== 200 || !res.body.equals(seed.manifest.data)) {
      sec.fail(rps, key, `preflight: ${typeof res === 'string' ? res : `status ${res.status}, ${res.bytes} bytes`}`);
      continue;
    }
    targets.push({ key, url });
    // Each node behind the balancer gets its warm-up (JIT, caches).
    const warmup = cfg.warmupSeconds * (key === 'three' ? 3 : 1);
    await runLoad({ url, method: 'GET', connections: 64, seconds: warmup, headers: { Accept: MANIFEST_ACCEPT } }).catch(() => undefined);
  }
  const p50 = 'GET manifest by tag, c=64: p50 (ms)';
  const p99 = 'GET manifest by tag, c=64: p99 (ms)';
  sec.row(p50);
  sec.row(p99);
  await alternate(d, cfg.runs, sec, rps, targets, async (t) => {
    const r = await runLoad({ url: t.url, method: 'GET', connections: 64, seconds: cfg.loadSeconds, headers: { Accept: MANIFEST_ACCEPT } });
    sec.add(p50, t.key, r.p50ms);
    sec.add(p99, t.key, r.p99ms);
    return { value: r.rps, errors: r.errors };
  });
  const rss = 'peak RSS of a registry process since its start (MiB)';
  nodes.forEach((n, i) => {
    if (i === 0) sec.add(rss, 'one', peakRssBytes(n.proc.pid) / MIB);
    sec.add(rss, 'three', peakRssBytes(n.proc.pid) / MIB);
  });
  sec.add(rss, 'distribution', peakRssBytes(distribution.proc.pid) / MIB);
  sec.notes.push('The RSS row: node 1 (behind both balancers) under "1 node", the median of the three nodes under "3 nodes".');
  return sec;
}
