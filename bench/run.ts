// berth benchmark: berth vs Docker distribution 2.8.2 (and nginx as the static-file ceiling).
// Usage: npm run bench            (full, ~30 min on a quiet machine; BENCH_BIG=0 skips the 4 GiB part, BENCH_CLUSTER=0
//                                  sections 11-13, BENCH_GC=0 section 14, garbage collection over 1,000,000 blob links: ~4 min)
//        BENCH_QUICK=1 npm run bench   (smoke run: ~18 min on a loaded machine, 10 of them sections 9-10)
//        BENCH_ISSUE18=1 npm run bench (only issue 18's rows and summary: sections 1-6b, 8, 15, 16)
// See bench/config.ts for all BENCH_* variables. Results: stdout and bench/results/latest.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig } from './config.ts';
import { errMsg, log, MIB, newSection, sizeLabel, type Ctx } from './context.ts';
import { loadSection } from './load.ts';
import { generateSource } from './payload.ts';
import { currentRssBytes, installCleanupHandlers, resetPeakRss, runMain } from './procs.ts';
import { haveCurl } from './push.ts';
import {
  berthAvailable,
  BERTH_DIR,
  BERTH_SOURCE, buildBerth,
  REPO_ROOT,
  startBerth,
  startDistribution,
  startNginx,
  tempWorkDir,
  toolVersion,
  type Server,
} from './servers.ts';
import { machineHeader, markAbsent, Section } from './table.ts';
import { bigBlobSection, pullSection, pushSections, smallPushSection } from './transfer.ts';
import { authSection } from './auth.ts';
import { mirrorSection } from './mirror.ts';
import { searchSection } from './search.ts';
import { uiSection } from './ui.ts';
import { notRunSection, scaleOutSections } from './scale-out.ts';
import { buildsSection } from './builds.ts';
import { copySection } from './copy.ts';
import { gcSection } from './gc.ts';
import { curlPullSections, curlPushSection } from './curl-transfer.ts';
import { concurrentPushSection, concurrentSmallPushSection } from './concurrent.ts';
import { limitsSection } from './limits.ts';
import { renderTargets, type TargetSources } from './targets.ts';

function autocannonVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/autocannon/package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '?';
  } catch {
    return '?';
  }
}

function gitRev(): string {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 5000 });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 5000 });
  return `${r.stdout.trim() || '?'}${dirty.stdout.trim() ? ' (+ uncommitted changes in src/)' : ''}`;
}

function render(header: string, sections: { render(): string }[]): string {
  return [header, ...sections.map((s) => s.render())].join('\n\n') + '\n';
}

async function main(): Promise<void> {
  installCleanupHandlers();
  const cfg = readConfig();
  const started = Date.now();
  const logCtx = { started };
  const work = tempWorkDir();

  const nginx = await startNginx(work);
  const distribution = await startDistribution(work);
  let berth: Server | undefined;
  let berthStatus: string;
  if (!cfg.berthEnabled) {
    berthStatus = 'berth: skipped (BENCH_BERTH=0)';
  } else if (!berthAvailable()) {
    berthStatus = `berth: NOT RUN (${BERTH_SOURCE} does not exist yet)`;
  } else {
    try {
      buildBerth();
      berth = await startBerth(work);
      berthStatus = BERTH_DIR
        ? `berth: the build in ${BERTH_DIR} (BENCH_BERTH_DIR), \`node bin/berth.js serve\`; checkout at ${gitRev()}`
        : `berth: ${gitRev()}, \`npm run build\` then \`node bin/berth.js serve\``;
    } catch (err) {
      berthStatus = `berth: FAILED TO START: ${errMsg(err).replace(/\s+/g, ' ').slice(0, 300)}`;
    }
  }
  log(logCtx, berthStatus);
  if (!berth) markAbsent('berth', 'not run');
  const registries = berth ? [berth, distribution] : [distribution];

  log(logCtx, `generating ${sizeLabel(cfg.blobSize)} random source file`);
  const source = generateSource(join(nginx.root, 'blob.bin'), cfg.blobSize);

  const rss = newSection('6. Server memory (RSS, MiB)', false);
  rss.notes.push(
    'VmHWM from /proc/<pid>/status of the server process (berth: the node process itself, spawned directly, not via npm), ' +
      'reset via /proc/<pid>/clear_refs at the start of each section. berth runs its compiled build (no TypeScript loader).',
  );
  for (const r of registries) rss.add('idle RSS after start (MiB)', r.name, currentRssBytes(r.proc.pid) / MIB);
  if (!registries.every((r) => resetPeakRss(r.proc.pid))) {
    rss.notes.push('**clear_refs was not permitted (not root?): per-section peaks are cumulative since server start.**');
  }

  const ctx: Ctx = { cfg, registries, nginx, source, rss, peakOverall: new Map(), started };
  const header = machineHeader([
    `mode: ${cfg.quick ? 'QUICK smoke run' : 'full'}; ${cfg.runs} interleaved run(s) per measurement (A, B, A, B...), median reported; ` +
      `blob ${sizeLabel(cfg.blobSize)}, loads ${cfg.loadSeconds} s`,
    berthStatus,
    `distribution: ${toolVersion('/usr/bin/docker-registry', ['--version'])} (filesystem storage, inmemory blobdescriptor cache, delete enabled, log level error, access log off)`,
    `nginx: ${toolVersion('/usr/sbin/nginx', ['-v'])} (sendfile on, worker_processes auto, access log off)`,
    `clients: ${toolVersion('/usr/bin/wrk', ['--version'])}; autocannon ${autocannonVersion()}; ` +
      `${haveCurl() ? toolVersion('/usr/bin/curl', ['--version']).split(' ').slice(0, 2).join(' ') : 'no curl'}; node:http`,
    ...(cfg.issue18Only ? ['BENCH_ISSUE18=1: only the sections issue 18 reads; 7 and 9-14 not run'] : []),
    'MB = 10^6 bytes. All servers on 127.0.0.1, storage in a temp dir on the same disk. Ratio column: berth/distribution ' +
      '(>1 is better for throughput, <1 is better for latency and memory).',
  ]);

  const sections: Section[] = [];
  let bigSec: Section | undefined;
  let authSec: Section | undefined;
  let mirrorSec: Section | undefined;
  let searchSec: Section | undefined;
  let uiSecs: Section[] = [];
  let scaleOutSecs: Section[] = [];
  let gcSec: Section | undefined;
  let buildsSec: Section | undefined;
  let copySecs: Section[] = [];
  let limitsSec: Section | undefined;
  // Issue 18's summary reads these (a missing one: "not measured").
  const sources: TargetSources = { rss };
  const emit = (): string => {
    const all = [...sections, rss, ...(bigSec ? [bigSec] : []), ...(authSec ? [authSec] : []), ...(mirrorSec ? [mirrorSec] : []), ...(searchSec ? [searchSec] : []), ...uiSecs, ...scaleOutSecs, ...(gcSec ? [gcSec] : []), ...(buildsSec ? [buildsSec] : []), ...copySecs, ...(limitsSec ? [limitsSec] : [])];
    if (ctx.peakOverall.size) {
      for (const [name, peak] of ctx.peakOverall) rss.add('peak RSS over all sections (MiB)', name, peak / MIB);
      ctx.peakOverall.clear();
    }
    // The client side must stay flat in blob size too (it streams files; it never holds a blob).
    const clientNote = 'The bench process itself (the clients): peak RSS ';
    rss.notes.splice(0, rss.notes.length, ...rss.notes.filter((n) => !n.startsWith(clientNote)));
    rss.notes.push(`${clientNote}${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB over the run.`);
    Object.assign(sources, { big: bigSec, mirror: mirrorSec, limits: limitsSec });
    return render(header, [...all, { render: () => renderTargets(cfg, sources) }]);
  };

  try {
    const { sections: pushSecs, pushed } = await pushSections(ctx);
    const [monoSec, chunkedSec] = pushSecs;
    const curlPush = await curlPushSection(ctx, work);
    Object.assign(sources, { curlPush: curlPush.section, chunked: chunkedSec });
    sections.push(monoSec, curlPush.section, chunkedSec);
    sections.push(await concurrentPushSection(ctx, work));
    sections.push(await pullSection(ctx, pushed));
    const [curlPullSec, concurrentPullSec] = await curlPullSections(ctx, curlPush.result);
    sections.push(curlPullSec, concurrentPullSec);
    sources.curlPull = curlPullSec;
    sources.load = await loadSection(ctx);
    sections.push(sources.load);
    sources.smallPush = await smallPushSection(ctx);
    sections.push(sources.smallPush, await concurrentSmallPushSection(ctx));
    if (cfg.big && berth) {
      log(ctx, `berth-only memory check with ${sizeLabel(cfg.blobSize * cfg.bigRepeat)} blobs`);
      bigSec = await bigBlobSection(ctx);
    } else {
      rss.notes.push(
        cfg.big ? 'The big-blob memory check (6b) needs berth: not run.' : 'The big-blob memory check (6b) was skipped (BENCH_BIG=0).',
      );
    }
    if (berth) mirrorSec = await mirrorSection(ctx, work);
    // Needs section 4's seed in berth, and berth without access control (section 7 switches it on).
    log(ctx, "the machine's limits (section 15)");
    limitsSec = await limitsSection(ctx, work, {
      curlPush: curlPush.section,
      curlPull: curlPullSec,
      concurrentPulls: concurrentPullSec,
      smallPush: sources.smallPush,
      mirror: mirrorSec,
    });
    // BENCH_ISSUE18=1: only the sections issue 18's summary reads (above); none of those below.
    const rest = !cfg.issue18Only;
    // Seeds 100,000 repositories into berth's database: after the sections that list or push.
    if (berth && rest) searchSec = await searchSection(ctx, berth);
    // The UI's pages over those 100,000 repositories ('w1x' is one of the seeded words).
    if (berth && rest) {
      try {
        uiSecs = await uiSection(ctx, berth, 'w1x');
      } catch (err) {
        log(ctx, `ui: ${errMsg(err)}`);
      }
    }
    // Issue 16: webhook to pushed image, on a berth of its own with builds on.
    if (berth && rest) buildsSec = await buildsSection({ started, runs: cfg.runs }, work).catch((err: unknown) => notRunSection('17. Automated builds', `failed: ${errMsg(err)}`));
    // Issue 17: berth cp beside skopeo copy, replication of 1,000 tags; berths of their own.
    const copyTitle = '18. Moving images';
    if (berth && rest) {
      copySecs = process.env.BENCH_COPY === '0'
        ? [notRunSection(copyTitle, 'skipped (BENCH_COPY=0)')]
        : await copySection({ started, runs: cfg.runs, quick: cfg.quick }, work).catch((err: unknown) => [notRunSection(copyTitle, `failed: ${errMsg(err)}`)]);
    }
    // Last: it switches berth's access control on.
    if (berth && rest) authSec = await authSection(ctx, berth);
    // Issue 14: S3 on Ceph RGW, nginx to 1 vs 3 nodes, PostgreSQL vs SQLite; servers of their own.
    const scaleOutTitle = '11-13. S3, cluster, PostgreSQL';
    if (!rest) scaleOutSecs = [notRunSection(scaleOutTitle, 'skipped (BENCH_ISSUE18=1)')];
    else scaleOutSecs = berth ? await scaleOutSections({ cfg, started, source }) : [notRunSection(scaleOutTitle, 'berth did not run')];
    // Issue 15: a collection over 100,000 repositories of its own, served by a berth of its own.
    const gcTitle = '14. Garbage collection';
    if (!berth) gcSec = notRunSection(gcTitle, 'berth did not run');
    else if (!rest) gcSec = notRunSection(gcTitle, 'skipped (BENCH_ISSUE18=1)');
    else if (process.env.BENCH_GC === '0') gcSec = notRunSection(gcTitle, 'skipped (BENCH_GC=0)');
    else gcSec = await gcSection(ctx).catch((err: unknown) => notRunSection(gcTitle, `failed: ${errMsg(err).replace(/\s+/g, ' ').slice(0, 400)}`));
  } catch (err) {
    log(ctx, `ABORTED: ${errMsg(err)}`);
    const out = emit();
    process.stdout.write(out);
    throw err;
  }

  const out = emit();
  process.stdout.write('\n' + out);
  const resultsDir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.md'), out);
  log(ctx, `done in ${Math.round((Date.now() - started) / 1000)} s; wrote bench/results/latest.md`);
}

runMain(main);
