// Section 4: seed the registries, then fixed-duration HTTP load on the read endpoints.
import { describe, request } from './client.ts';
import { errMsg, interleave, log, newSection, rssPhase, type Ctx } from './context.ts';
import { runLoad } from './http-load.ts';
import { loadPaths, makeSeed, MANIFEST_ACCEPT, seedRegistry, writeNginxMirror } from './seed.ts';
import type { Server } from './servers.ts';
import type { Section } from './table.ts';

interface Endpoint {
  name: string;
  path: string;
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
}

export async function loadSection(ctx: Ctx): Promise<Section> {
  const { cfg } = ctx;
  const seed = makeSeed(cfg.tags, cfg.repos);
  const sec = newSection('4. HTTP load on read endpoints');
  sec.notes.push(
    `Seeded: bench/app (OCI manifest, config + 64 KiB layer) with ${cfg.tags} tags, plus ${cfg.repos} repos bench/rNNN ` +
      '(blobs cross-mounted, manifest tagged latest). nginx serves static copies of the same bodies (its ceiling).',
    `GET rows: wrk 4.1.0 (-t1 at c=1, -t2 at c=64, ${cfg.loadSeconds} s, --latency); HEAD row: autocannon ` +
      `(${cfg.loadSeconds} s, latency percentiles from every 2xx response). Client shares the 2 cores with the server. Latency in ms.`,
  );

  const seedMetric = `setup: seed ${cfg.repos} repos + ${cfg.tags} tags (s, 1 run, sequential requests)`;
  for (const t of ctx.registries) {
    try {
      const t0 = Date.now();
      const n = await seedRegistry(t, seed);
      sec.add(seedMetric, t.name, (Date.now() - t0) / 1000);
      log(ctx, `seeded ${t.name}: ${n} requests in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } catch (err) {
      sec.fail(seedMetric, t.name, errMsg(err));
      log(ctx, `seeding ${t.name} FAILED: ${errMsg(err)}`);
    }
  }
  const reference = ctx.registries.find((r) => r.name === 'distribution' && !sec.failed(seedMetric, r.name));
  const targets: Server[] = [...ctx.registries.filter((r) => !sec.failed(seedMetric, r.name))];
  if (reference) {
    await writeNginxMirror(ctx.nginx.root, seed, reference);
    targets.push(ctx.nginx);
  }

  const paths = loadPaths(seed);
  const endpoints: Endpoint[] = [
    { name: 'GET manifest by tag', path: paths.manifest, method: 'GET', headers: { Accept: MANIFEST_ACCEPT } },
    { name: 'GET tags/list', path: paths.tags, method: 'GET', headers: {} },
    { name: 'GET _catalog?n=100', path: paths.catalog, method: 'GET', headers: {} },
    { name: 'HEAD layer blob', path: paths.blobHead, method: 'HEAD', headers: {} },
  ];

  await rssPhase(ctx, 'HTTP load', async () => {
    for (const ep of endpoints) {
      const metric = (c: number, what: string): string => `${ep.name}, c=${c}: ${what}`;
      const live: Server[] = [];
      for (const t of targets) {
        // Preflight: the exact request must answer 200, else every row of this endpoint fails.
        let why: string | undefined;
        try {
          const res = await request(ep.method, new URL(ep.path, t.base), { headers: ep.headers });
          if (res.status !== 200) why = `preflight ${ep.method} ${ep.path} answered ${describe(res)}`;
        } catch (err) {
          why = `preflight ${ep.method} ${ep.path}: ${errMsg(err)}`;
        }
        if (why !== undefined) {
          for (const c of cfg.connections) sec.fail(metric(c, 'req/s'), t.name, why);
          log(ctx, `${ep.name} ${t.name}: ${why}`);
          continue;
        }
        live.push(t);
        await runLoad({ url: new URL(ep.path, t.base), method: ep.method, connections: 64, seconds: cfg.warmupSeconds, headers: ep.headers }).catch(
          () => undefined,
        );
      }
      for (const c of cfg.connections) {
        for (const what of ['req/s', 'p50 (ms)', 'p99 (ms)']) sec.row(metric(c, what));
        await interleave(ctx, sec, metric(c, 'req/s'), live, async (t) => {
          const r = await runLoad({ url: new URL(ep.path, t.base), method: ep.method, connections: c, seconds: cfg.loadSeconds, headers: ep.headers });
          sec.add(metric(c, 'p50 (ms)'), t.name, r.p50ms);
          sec.add(metric(c, 'p99 (ms)'), t.name, r.p99ms);
          return { value: r.rps, errors: r.errors };
        });
      }
    }
  });
  return sec;
}
