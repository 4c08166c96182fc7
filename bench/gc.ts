// 14. Garbage collection at scale (berth only, issue 15): 100,000 repositories and 1,000,000 blob
// links seeded straight into a berth database (bench/gc-dataset.ts), served by berth's build while
// collections run in it (POST /api/v1/admin/gc, the scheduled run's collector) or beside it
// (`berth gc --json`); wrk GETs manifests by tag from 10,000 of the repositories during each pass.
// BENCH_QUICK=1 (or BENCH_GC_REPOS=N) shrinks it 10x; BENCH_GC=0 skips it (bench/run.ts).
// Alone (builds berth first): node --import tsx bench/gc.ts
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAccessControl } from '../src/auth/setup.ts';
import { SYSTEM } from '../src/auth/principal.ts';
import { configSchema } from '../src/config/schema.ts';
import { openSqliteBackend } from '../src/meta/sqlite/backend.ts';
import { SqliteMetaStore } from '../src/meta/sqlite/sqlite-store.ts';
import type { GcReport } from '../src/registry/gc.ts';
import { expectStatus, request } from './client.ts';
import { readConfig, type BenchConfig } from './config.ts';
import { errMsg, log, MB, MIB, syncDisks } from './context.ts';
import { buildGcDataset, type GcDataset } from './gc-dataset.ts';
import { parseWrk, type LoadResult } from './http-load.ts';
import { currentRssBytes, installCleanupHandlers, makeTempDir, peakRssBytes, raceTimeout, resetPeakRss, runMain, startProc, stopProc } from './procs.ts';
import { BERTH_MAIN, buildBerth, REPO_ROOT, startBerth, type Server } from './servers.ts';
import { Section } from './table.ts';

const TITLE = '14. Garbage collection';
const CONNECTIONS = 8;
const ADMIN = 'gc-bench';
const PASSWORD = 'gc-bench-password-1';
/** The collection's settings, for the server and `berth gc` alike (background runs off: the bench starts each pass). */
const GC_ENV = {
  REGISTRY_STORAGE_GC_INTERVAL: '0',
  REGISTRY_STORAGE_GC_GRACE: '1h',
  REGISTRY_STORAGE_GC_UNTAGGED: 'delete',
  REGISTRY_STORAGE_DELETE_ENABLED: 'true',
  REGISTRY_ACCESS_DEFAULTVISIBILITY: 'public',
};
const COLUMNS = [
  { key: 'time', label: 'pass (s)' },
  { key: 'peak', label: 'peak RSS (MiB)' },
  { key: 'growth', label: 'RSS growth (MiB)' },
  { key: 'p50', label: 'GET p50 (ms)' },
  { key: 'p99', label: 'GET p99 (ms)' },
  { key: 'max', label: 'GET max (ms)' },
  { key: 'rps', label: 'GET req/s' },
  { key: 'manifests', label: 'manifests freed' },
  { key: 'blobs', label: 'blobs freed' },
  { key: 'mbps', label: 'MB/s freed' },
];

interface Pass {
  report: Pick<GcReport, 'durationMs' | 'manifests' | 'blobs' | 'bytes' | 'errors'>;
  /** VmHWM of the process that ran it (reset as it started, when it is the server). */
  peak: number;
  /** Its RSS as the pass started (the server's; none for `berth gc`, whose peak covers its whole life). */
  rssBefore?: number;
}

function checked(report: Pass['report']): Pass['report'] {
  if (report.errors.length > 0) throw new Error(`the pass reported errors: ${report.errors.join('; ').slice(0, 500)}`);
  return report;
}

/** A pass in the serving process, as the scheduled run makes it: POST /api/v1/admin/gc, answered when it is done. */
async function passInServer(berth: Server): Promise<Pass> {
  const pid = berth.proc.pid;
  const rssBefore = currentRssBytes(pid);
  resetPeakRss(pid);
  const res = await request('POST', new URL('/api/v1/admin/gc', berth.base), {
    headers: { authorization: `Basic ${Buffer.from(`${ADMIN}:${PASSWORD}`).toString('base64')}`, 'content-type': 'application/json', 'content-length': 2 },
    body: Buffer.from('{}'),
    timeoutMs: 900_000,
  });
  expectStatus(res, [200], 'POST /api/v1/admin/gc');
  return { report: checked(JSON.parse(res.body.toString('utf8')) as GcReport), peak: peakRssBytes(pid), rssBefore };
}

/** A pass by `berth gc --json` beside the server; its VmHWM read every 20 ms until it exits (a high-water mark: the last read holds). */
async function passInOwnProcess(root: string): Promise<Pass> {
  const child = spawn(process.execPath, [BERTH_MAIN, 'gc', '--json'], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: 'production', REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root, REGISTRY_LOG_LEVEL: 'warn', ...GC_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill);
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => void (err = (err + b.toString('utf8')).slice(-4000)));
  let peak = 0;
  const pid = child.pid ?? 0;
  const poll = setInterval(() => void (peak = Math.max(peak, peakRssBytes(pid))), 20);
  try {
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    if (code !== 0) throw new Error(`berth gc exited ${code}: ${err.trim().slice(-1500)}`);
  } finally {
    clearInterval(poll);
    process.off('exit', kill);
  }
  return { report: checked(JSON.parse(Buffer.concat(out).toString('utf8')) as GcReport), peak };
}

/** wrk's script: GET /v2/<repository i>/manifests/latest for a random target (every 10th repository). */
function writeScript(work: string, targets: number): string {
  const file = join(work, 'gc-targets.lua');
  writeFileSync(
    file,
    [
      'wrk.headers["Accept"] = "application/vnd.oci.image.manifest.v1+json"',
      'request = function()',
      `  local i = math.random(0, ${targets - 1}) * 10`,
      '  return wrk.format("GET", string.format("/v2/ns%03d/app-%d/manifests/latest", i % 1000, i))',
      'end',
      '',
    ].join('\n'),
  );
  return file;
}

interface Load extends LoadResult {
  maxMs: number;
}

const UNIT_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3 };

/** wrk for `seconds`, or until stop() (SIGINT: wrk prints what it measured so far). */
function startLoad(base: URL, script: string, seconds = 3600): { stop: () => Promise<Load>; done: () => Promise<Load> } {
  // a 60 s timeout: a stall up to a minute is a latency, not an error
  const args = ['-t', '1', '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--latency', '--timeout', '60s', '-s', script, base.href];
  const proc = startProc('wrk', '/usr/bin/wrk', args);
  const done = async (): Promise<Load> => {
    const code = await raceTimeout(proc.closed, (seconds + 70) * 1000);
    if (code === 'timeout') await stopProc(proc, 1000);
    if (code !== 0) throw new Error(`wrk exited ${code}: ${proc.tail()}`);
    const out = proc.tail();
    const max = /^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)\s/m.exec(out);
    return { ...parseWrk(out), maxMs: max?.[1] && max[2] ? Number.parseFloat(max[1]) * (UNIT_MS[max[2]] ?? Number.NaN) : Number.NaN };
  };
  return {
    done,
    stop: async () => {
      proc.child.kill('SIGINT');
      return done();
    },
  };
}

function addPass(sec: Section, metric: string, p: Pass, load?: Load): void {
  const seconds = p.report.durationMs / 1000;
  sec.add(metric, 'time', seconds);
  sec.add(metric, 'peak', p.peak / MIB);
  if (p.rssBefore !== undefined) sec.add(metric, 'growth', Math.max(0, p.peak - p.rssBefore) / MIB);
  sec.add(metric, 'manifests', p.report.manifests);
  sec.add(metric, 'blobs', p.report.blobs);
  if (p.report.bytes > 0) sec.add(metric, 'mbps', p.report.bytes / MB / seconds);
  if (load) addLoad(sec, metric, load);
}

function addLoad(sec: Section, metric: string, load: Load): void {
  if (load.requests === 0) {
    sec.fail(metric, 'p50', 'no GET was answered while the pass ran');
    return;
  }
  sec.add(metric, 'p50', load.p50ms, load.errors);
  sec.add(metric, 'p99', load.p99ms, load.errors);
  sec.add(metric, 'max', load.maxMs, load.errors);
  sec.add(metric, 'rps', load.rps, load.errors);
}

const n = (x: number): string => x.toLocaleString('en');

/** An administrator (access control switches on; repositories stay public by REGISTRY_ACCESS_DEFAULTVISIBILITY), for POST /api/v1/admin/gc. */
async function createAdmin(berth: Server): Promise<void> {
  const backend = openSqliteBackend({ path: join(berth.root, 'berth.db') });
  try {
    const config = configSchema.parse({ storage: { filesystem: { rootdirectory: berth.root } } });
    const access = await createAccessControl({ config, store: backend.accounts, meta: backend.meta });
    await access.accounts.createUser(SYSTEM, ADMIN, PASSWORD, true);
  } finally {
    await backend.close();
  }
  // berth notices its first user within a second: /v2/ then asks for credentials
  for (let i = 0; i < 100; i++) {
    if ((await request('GET', new URL('/v2/', berth.base))).status === 401) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('access control did not switch on');
}

/** Section 14 on a dataset and a berth of its own: `repos` repositories (default 100,000; BENCH_QUICK 10,000). */
export async function gcSection(ctx: { cfg: BenchConfig; started: number }): Promise<Section> {
  const repos = Number(process.env.BENCH_GC_REPOS ?? (ctx.cfg.quick ? 10_000 : 100_000));
  if (!Number.isInteger(repos) || repos < 1000) throw new Error(`BENCH_GC_REPOS=${process.env.BENCH_GC_REPOS}: expected an integer of at least 1000`);
  const work = makeTempDir('berth-bench-gc-');
  log(ctx, `gc: building ${n(repos)} repositories, ${n(repos * 10)} blob links`);
  const data: GcDataset = buildGcDataset(join(work, 'gc-data'), repos);
  syncDisks();
  log(ctx, `gc: built in ${data.seconds.toFixed(1)} s (${n(data.files)} files, ${(data.fileBytes / MB).toFixed(0)} MB)`);
  const sec = new Section(`${TITLE}: ${n(data.repos)} repositories, ${n(data.links)} blob links (berth only)`, COLUMNS);
  const berth = await startBerth(work, { dataDir: 'gc-data', label: 'berth-gc', env: GC_ENV });
  const meta = new SqliteMetaStore(join(data.root, 'berth.db'));
  const count = meta.database.prepare<[], { blobs: number; manifests: number }>(
    'SELECT (SELECT COUNT(*) FROM gc_blob_queue) AS blobs, (SELECT COUNT(*) FROM gc_manifest_queue) AS manifests',
  );
  const script = writeScript(work, data.targets);
  const underLoad = async (pass: () => Promise<Pass>): Promise<{ pass: Pass; load: Load }> => {
    const load = startLoad(berth.base, script);
    try {
      const p = await pass();
      // the GETs the pass held up are answered as soon as it ends: let them arrive before wrk stops
      await new Promise((r) => setTimeout(r, 500));
      return { pass: p, load: await load.stop() };
    } catch (err) {
      await load.stop().catch(() => undefined);
      throw err;
    }
  };
  const measure = async (metric: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
      log(ctx, `gc: ${metric}: ${COLUMNS.map((c) => `${c.key} ${sec.value(metric, c.key).toFixed(2)}`).join(', ')}`);
    } catch (err) {
      sec.fail(metric, 'time', errMsg(err));
      log(ctx, `gc: ${metric} FAILED: ${errMsg(err)}`);
    }
  };
  try {
    await createAdmin(berth);
    await startLoad(berth.base, script, 2).done(); // warm-up: the targets' manifests read once
    const baseline = `no pass: GET baseline (${ctx.cfg.loadSeconds} s)`;
    await measure(baseline, async () => addLoad(sec, baseline, await startLoad(berth.base, script, ctx.cfg.loadSeconds).done()));

    let q = count.get() ?? { blobs: 0, manifests: 0 };
    const first = `first pass after the upgrade: ${n(q.blobs)} blobs + ${n(q.manifests)} manifests queued, none garbage`;
    await measure(first, async () => {
      const r = await underLoad(() => passInServer(berth));
      addPass(sec, first, r.pass, r.load);
    });

    const idle = 'next pass, nothing changed since (median of 3, no load)';
    await measure(idle, async () => {
      for (let i = 0; i < 3; i++) addPass(sec, idle, await passInServer(berth));
    });

    for (const repo of data.untag) await meta.deleteTag(repo, 'latest');
    q = count.get() ?? q;
    const steady = `1% garbage: ${n(data.untag.length)} tags deleted (${n(q.manifests)} manifests queued)`;
    await measure(steady, async () => {
      const r = await underLoad(() => passInServer(berth));
      addPass(sec, steady, r.pass, r.load);
    });

    for (const repo of data.untagSeparate) await meta.deleteTag(repo, 'latest');
    const apart = 'the same, by `berth gc` in its own process beside the server';
    await measure(apart, async () => {
      const r = await underLoad(() => passInOwnProcess(data.root));
      addPass(sec, apart, r.pass, r.load);
    });

    for (const m of data.deleted) await meta.deleteManifest(m.repo, m.digest);
    q = count.get() ?? q;
    const dangling = `${n(data.deleted.length * 8)} dangling blobs: ${n(data.deleted.length)} manifests deleted (${n(q.blobs)} blobs queued)`;
    await measure(dangling, async () => {
      const r = await underLoad(() => passInServer(berth));
      addPass(sec, dangling, r.pass, r.load);
    });

    // the machine's load drifts: the baseline again, after
    const after = `no pass: GET baseline again, after (${ctx.cfg.loadSeconds} s)`;
    await measure(after, async () => addLoad(sec, after, await startLoad(berth.base, script, ctx.cfg.loadSeconds).done()));
  } finally {
    await meta.close();
    await stopProc(berth.proc);
  }

  sec.notes.push(
    `Dataset (built in ${data.seconds.toFixed(0)} s, one transaction straight into a migrated database, rows as pushes leave them, ` +
      `their triggers firing, so everything starts queued for review as after the upgrade that added the queues): ${n(data.repos)} repositories ` +
      `of one manifest tagged \`latest\` and 10 blob links each (the manifest, a config, 6 layers of its own, 2 of 200 shared base layers): ` +
      `${n(data.blobs)} blobs, all 2 days old; storage.gc grace 1h, untagged: delete, background runs off. Only blobs something reads or deletes ` +
      `have files: the manifests the GETs read (real JSON, verified by the server) and every blob of the repositories made garbage ` +
      `(${n(data.files)} files, ${(data.fileBytes / MB).toFixed(0)} MB; layers 8-512 KiB). A pass never reads a blob's bytes; it deletes the dangling ones.`,
    "berth's build serves the directory (access control on with one administrator, repositories public). Passes run in the server " +
      '(POST /api/v1/admin/gc: the collector the scheduled runs use, its event loop shared with the GETs), except the row run by ' +
      '`berth gc --json` in a process of its own over the same directory (SQLite WAL). Garbage is made through the meta store from the ' +
      'bench (deleteTag, deleteManifest: the rows an API DELETE changes, without its events). pass: the report\'s durationMs. ' +
      "Peak RSS: VmHWM of the process running the pass (the server's, reset as the pass starts, its serving included; `berth gc`'s, " +
      "over its whole life); growth: that peak minus the server's RSS as the pass started.",
    `GET: wrk -t1 -c${CONNECTIONS} --timeout 60s, manifest by tag of a random one of ${n(data.targets)} repositories (every 10th; none made ` +
      "garbage), from the pass's start to 0.5 s after its end (SIGINT), on the same 2 cores. Closed loop: a stall delays the next " +
      'requests instead of adding more, so p99 understates a long stall; max shows it. 1% garbage: 1% of the repositories lose their tag, ' +
      'so 1% of the links become garbage: the pass collects each untagged manifest and its 8 blobs of its own, and reviews and keeps the ' +
      'shared layers. The dangling row\'s pass only marks and deletes blobs (MB/s: bytes freed over the whole pass).',
  );
  return sec;
}

async function main(): Promise<void> {
  installCleanupHandlers();
  const cfg = readConfig();
  const started = Date.now();
  buildBerth();
  const sec = await gcSection({ cfg, started });
  process.stdout.write(`\n${sec.render()}\n`);
  log({ started }, `done in ${Math.round((Date.now() - started) / 1000)} s`);
}

runMain(main, import.meta.url);
