// 12. PostgreSQL vs SQLite (issue 14): one berth on SQLite and one on PostgreSQL, both on
// filesystem storage so that only the metadata store differs: manifest GET by tag and search at
// 64 connections (wrk), and sequential 4 KiB blob pushes.
import { alternate } from './alternate.ts';
import { startBerthOn, type Postgres } from './backends.ts';
import { describe, request } from './client.ts';
import type { BenchConfig } from './config.ts';
import { errMsg, log, MIB } from './context.ts';
import { runLoad } from './http-load.ts';
import { peakRssBytes, stopProc } from './procs.ts';
import { pushSmallBlobs } from './push.ts';
import { loadPaths, makeSeed, MANIFEST_ACCEPT, seedRegistry } from './seed.ts';
import type { Server } from './servers.ts';
import { Section } from './table.ts';

interface Target {
  key: 'sqlite' | 'postgres';
  srv: Server;
}

export interface DatabasesDeps {
  cfg: BenchConfig;
  started: number;
  work: string;
  pg: Postgres;
  pgVersion: string;
}

export async function databasesSection(d: DatabasesDeps): Promise<Section> {
  const { cfg, pg, work } = d;
  const sec = new Section(
    '13. PostgreSQL vs SQLite (berth, filesystem storage)',
    [
      { key: 'sqlite', label: 'SQLite' },
      { key: 'postgres', label: 'PostgreSQL' },
    ],
    { num: 'postgres', den: 'sqlite', label: 'PostgreSQL/SQLite' },
  );
  const pgUrl = await pg.createDatabase('bench_fs');
  const targets: Target[] = [
    { key: 'sqlite', srv: await startBerthOn(work, 'db-sqlite', {}) },
    { key: 'postgres', srv: await startBerthOn(work, 'db-postgres', { pgUrl }) },
  ];
  // Fewer repositories in the quick run: seeding them one push at a time is most of its time.
  const seed = makeSeed(cfg.tags, cfg.quick ? 50 : cfg.repos);
  sec.notes.push(
    `PostgreSQL ${d.pgVersion} on 127.0.0.1 (TCP, fsync and synchronous_commit off, as a throwaway server), berth's pool of 20; ` +
      'SQLite: berth\'s default file in the data directory (WAL). Both berth processes from the same build, same config but the database. ' +
      `Seeded: bench/app with ${cfg.tags} tags and ${seed.repos.length} repositories bench/rNNN. ` +
      `GET rows: wrk -t2 -c64, ${cfg.loadSeconds} s per run after a ${cfg.warmupSeconds} s warm-up, latency in ms; search \`q=bench\` matches every repository, 25 per page. ` +
      `Pushes: ${cfg.smallPushes} distinct ${cfg.smallBlobSize / 1024} KiB blobs, POST + PUT ?digest= each, sequential on one keep-alive connection. ` +
      'distribution has no database: its figures for the same requests are in sections 4 and 5.',
  );
  const seedMetric = `setup: seed ${seed.repos.length} repos + ${cfg.tags} tags (s, 1 run)`;
  const live: Target[] = [];
  for (const t of targets) {
    try {
      const t0 = Date.now();
      await seedRegistry(t.srv, seed);
      sec.add(seedMetric, t.key, (Date.now() - t0) / 1000);
      live.push(t);
    } catch (err) {
      sec.fail(seedMetric, t.key, errMsg(err));
      log(d, `databases: seeding ${t.key} FAILED: ${errMsg(err)}`);
    }
  }

  const endpoints: { name: string; path: string; headers: Record<string, string> }[] = [
    { name: 'GET manifest by tag', path: loadPaths(seed).manifest, headers: { Accept: MANIFEST_ACCEPT } },
    { name: 'GET /v1/search?q=bench&n=25', path: '/v1/search?q=bench&n=25', headers: {} },
  ];
  for (const ep of endpoints) {
    const rps = `${ep.name}, c=64: req/s`;
    const targetsOk: Target[] = [];
    for (const t of live) {
      const res = await request('GET', new URL(ep.path, t.srv.base), { headers: ep.headers }).catch((err: unknown) => errMsg(err));
      if (typeof res === 'string' || res.status !== 200) {
        sec.fail(rps, t.key, `preflight: ${typeof res === 'string' ? res : describe(res)}`);
        continue;
      }
      targetsOk.push(t);
      await runLoad({ url: new URL(ep.path, t.srv.base), method: 'GET', connections: 64, seconds: cfg.warmupSeconds, headers: ep.headers }).catch(() => undefined);
    }
    const p50 = `${ep.name}, c=64: p50 (ms)`;
    const p99 = `${ep.name}, c=64: p99 (ms)`;
    sec.row(rps);
    sec.row(p50);
    sec.row(p99);
    await alternate(d, cfg.runs, sec, rps, targetsOk, async (t) => {
      const r = await runLoad({ url: new URL(ep.path, t.srv.base), method: 'GET', connections: 64, seconds: cfg.loadSeconds, headers: ep.headers });
      sec.add(p50, t.key, r.p50ms);
      sec.add(p99, t.key, r.p99ms);
      return { value: r.rps, errors: r.errors };
    });
  }
  await alternate(d, cfg.runs, sec, `${cfg.smallPushes} sequential ${cfg.smallBlobSize / 1024} KiB pushes: pushes/s`, live, async (t) => ({
    value: await pushSmallBlobs(t.srv, 'bench/small', cfg.smallPushes, cfg.smallBlobSize),
  }));
  for (const t of live) sec.add('peak RSS of berth since start (MiB)', t.key, peakRssBytes(t.srv.proc.pid) / MIB);
  for (const t of targets) await stopProc(t.srv.proc);
  return sec;
}
