// 15. The machine's limits beside berth's figures: nginx sendfile (from 3b/3c), dd with
// fdatasync on the bench's temp dir, sha256 in node:crypto, a bare node:http server that answers
// berth's manifest GET by tag with the same bytes and headers under the same wrk load, a bare
// node:http server taking the 4 KiB pushes of section 5 (bench/bare-push-server.ts), and what
// putting new data into memory costs on this machine (the mirror's cold pull of section 8 writes
// a whole blob into the page cache).
import { spawnSync } from 'node:child_process';
import { randomFillSync, createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { request, waitForHttp } from './client.ts';
import { errMsg, log, MB, MIB, sizeLabel, syncDisks, type Ctx } from './context.ts';
import { concurrentPullMetric, curlPullMetric, curlPushMetric } from './curl-transfer.ts';
import { runLoad } from './http-load.ts';
import { startProc, stopProc } from './procs.ts';
import { pushSmallBlobs } from './push.ts';
import { loadPaths, makeSeed, MANIFEST_ACCEPT } from './seed.ts';
import { freePort, REPO_ROOT, type Server } from './servers.ts';
import { Section } from './table.ts';

export const LIMIT_ROWS = {
  manifestRps: 'manifest GET by tag, wrk -t2 -c64 (req/s): bare node:http vs berth',
  manifestP99: 'manifest GET by tag, wrk -t2 -c64: p99 (ms)',
};
/** Response headers a server writes for itself on every response (the bare server's node:http adds its own). */
const PER_CONNECTION = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

function newLimitsSection(): Section {
  return new Section("15. The machine's limits", [
    { key: 'limit', label: 'machine limit' },
    { key: 'berth', label: 'berth' },
  ], { num: 'berth', den: 'limit', label: 'berth/limit' });
}

/** dd if=/dev/zero bs=1M conv=fdatasync in `dir`: MB/s from dd's own elapsed time. */
function ddOnce(dir: string, bytes: number): number {
  const file = join(dir, 'dd.bin');
  try {
    syncDisks();
    const r = spawnSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${Math.round(bytes / MIB)}`, 'conv=fdatasync'], { encoding: 'utf8', timeout: 300_000 });
    const m = /^(\d+) bytes .* copied, ([\d.]+) s/m.exec(r.stderr ?? '');
    if (r.status !== 0 || !m?.[1] || !m[2]) throw new Error(`dd exited ${r.status}: ${(r.stderr ?? '').trim().slice(-300)}`);
    return Number(m[1]) / MB / Number(m[2]);
  } finally {
    rmSync(file, { force: true });
  }
}

/** sha256 of `bytes` in this process (node:crypto), 16 MiB updates of random data: MB/s. */
function sha256Once(bytes: number): number {
  const buf = randomFillSync(Buffer.allocUnsafe(16 * MIB));
  const hash = createHash('sha256');
  const t0 = performance.now();
  for (let done = 0; done < bytes; done += buf.length) hash.update(buf);
  hash.digest();
  return bytes / MB / ((performance.now() - t0) / 1000);
}

/**
 * dd if=/dev/zero bs=1M of `bytes` to a new file in `dir`, without a flush: how fast new data goes
 * into the page cache. The file is kept (the caller removes them all at the end), so that a run
 * does not reuse the pages the run before it just freed. MB/s from dd's own elapsed time.
 */
function ddNoFlushOnce(dir: string, bytes: number, run: number): number {
  syncDisks();
  const r = spawnSync('dd', ['if=/dev/zero', `of=${join(dir, `dd-cache-${run}.bin`)}`, 'bs=1M', `count=${Math.round(bytes / MIB)}`], { encoding: 'utf8', timeout: 300_000 });
  const m = /^(\d+) bytes .* copied, ([\d.]+) s/m.exec(r.stderr ?? '');
  if (r.status !== 0 || !m?.[1] || !m[2]) throw new Error(`dd exited ${r.status}: ${(r.stderr ?? '').trim().slice(-300)}`);
  return Number(m[1]) / MB / Number(m[2]);
}

/** Fill `bytes` of newly allocated memory once (every page touched for the first time): MB/s. */
function firstTouchOnce(bytes: number): number {
  const t0 = performance.now();
  Buffer.allocUnsafeSlow(bytes).fill(1);
  return bytes / MB / ((performance.now() - t0) / 1000);
}

/** Section 5's sequential 4 KiB pushes against a bare push server (`durable` or `memory`): pushes/s. */
async function barePushes(ctx: Ctx, work: string, mode: 'durable' | 'memory'): Promise<number> {
  const dir = join(work, `bare-push-${mode}`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const proc = startProc(`bare push (${mode})`, process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench', 'bare-push-server.ts'), String(port), mode, dir], { cwd: REPO_ROOT });
  try {
    const base = new URL(`http://127.0.0.1:${port}/`);
    await waitForHttp(base, 15_000, () => (proc.exited() ? `bare push server exited: ${proc.tail()}` : null));
    return await pushSmallBlobs({ name: `bare push (${mode})`, base }, 'bare', ctx.cfg.smallPushes, ctx.cfg.smallBlobSize);
  } finally {
    await stopProc(proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Start the bare server with berth's manifest response (status 200 asserted). */
async function startBare(ctx: Ctx, berth: Server, work: string): Promise<{ url: URL; stop: () => Promise<void> }> {
  const path = loadPaths(makeSeed(ctx.cfg.tags, ctx.cfg.repos)).manifest;
  const res = await request('GET', new URL(path, berth.base), { headers: { Accept: MANIFEST_ACCEPT } });
  if (res.status !== 200) throw new Error(`berth: GET ${path} answered ${res.status} (was section 4 seeded?)`);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !PER_CONNECTION.has(k)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  const file = join(work, 'bare-response.json');
  writeFileSync(file, JSON.stringify({ headers, body: res.body.toString('base64') }));
  const port = await freePort();
  const proc = startProc('bare node:http', process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench', 'bare-server.ts'), file, String(port)], { cwd: REPO_ROOT });
  const url = new URL(path, `http://127.0.0.1:${port}/`);
  await waitForHttp(url, 15_000, () => (proc.exited() ? `bare server exited: ${proc.tail()}` : null));
  return { url, stop: () => stopProc(proc) };
}

/** Section 15; `curlPull` and `curlPush` are sections 3b/3c and 1b (their figures are copied, not re-measured). */
export async function limitsSection(
  ctx: Ctx,
  work: string,
  from: { curlPush: Section; curlPull: Section; concurrentPulls: Section; smallPush: Section; mirror?: Section },
): Promise<Section> {
  const sec = newLimitsSection();
  const bytes = ctx.cfg.limitBytes;
  const size = sizeLabel(ctx.cfg.curlBlobSize);
  sec.notes.push(
    `Pull rows: nginx (sendfile) and berth from 3b/3c (not re-measured). Write row: \`dd if=/dev/zero bs=1M count=${bytes / MIB} ` +
      `conv=fdatasync\` on the bench's temp dir (dd's own rate) beside berth's \`curl -T\` push of ${size} (1b). sha256: node:crypto in ` +
      `the bench process, 16 MiB updates. Manifest rows: a bare node:http server (bench/bare-server.ts, its own process) answering ` +
      `every request with berth's manifest-by-tag bytes and headers, and berth, under the same wrk command as section 4, ` +
      `${ctx.cfg.runs} interleaved run(s) here, median.`,
    `Small-push rows: section 5's client (POST + PUT ?digest= of distinct 4 KiB blobs, one keep-alive connection) against a bare ` +
      `node:http server (bench/bare-push-server.ts) that stores nothing, or writes each body to a new file and fdatasyncs it ` +
      `before answering; berth's figure is section 5's. New-data rows: \`dd if=/dev/zero bs=1M count=${bytes / MIB}\` to a new ` +
      `file without a flush (the page cache; each run a file of its own, all removed at the end), beside the mirror's cold pull ` +
      `(section 8), which writes the blob it relays into the page cache; and node filling a newly allocated ${sizeLabel(bytes)} Buffer.`,
  );
  const copy = (metric: string, src: Section, srcMetric: string, col: string, srcCol: string): void => {
    const v = src.value(srcMetric, srcCol);
    if (Number.isFinite(v)) sec.add(metric, col, v);
    else sec.fail(metric, col, `no figure in "${src.title}"`);
  };
  const pullRow = `pull ${size}, curl (MB/s): nginx sendfile vs berth`;
  copy(pullRow, from.curlPull, curlPullMetric(ctx), 'limit', 'nginx');
  copy(pullRow, from.curlPull, curlPullMetric(ctx), 'berth', 'berth');
  const manyRow = `${ctx.cfg.concurrentPulls} concurrent pulls, aggregate (MB/s): nginx vs berth`;
  copy(manyRow, from.concurrentPulls, concurrentPullMetric(ctx), 'limit', 'nginx');
  copy(manyRow, from.concurrentPulls, concurrentPullMetric(ctx), 'berth', 'berth');
  /** One run of a limit row: its figure in the limit column, or why there is none. */
  const measure = async (row: string, run: number, once: () => number | Promise<number>): Promise<void> => {
    try {
      const v = await once();
      sec.add(row, 'limit', v);
      log(ctx, `${row} run ${run + 1}/${ctx.cfg.runs}: ${v.toFixed(0)}`);
    } catch (err) {
      sec.fail(row, 'limit', errMsg(err));
    }
  };
  const ddRow = `write with fdatasync (MB/s): dd ${sizeLabel(bytes)} vs berth curl -T push ${size}`;
  const shaRow = `sha256 of ${sizeLabel(bytes)}, node:crypto (MB/s)`;
  for (let run = 0; run < ctx.cfg.runs; run++) {
    await measure(ddRow, run, () => ddOnce(work, bytes));
    await measure(shaRow, run, () => sha256Once(bytes));
  }
  copy(ddRow, from.curlPush, curlPushMetric(ctx), 'berth', 'berth');

  const n = ctx.cfg.smallPushes;
  const kib = ctx.cfg.smallBlobSize / 1024;
  const smallRows = {
    durable: `${n} sequential ${kib} KiB pushes (per s): bare node:http, one fdatasync per push, vs berth`,
    memory: `${n} sequential ${kib} KiB pushes (per s): bare node:http, nothing stored`,
  };
  const blob = sizeLabel(ctx.cfg.blobSize);
  const cacheRow = `new data into the page cache (MB/s): dd ${sizeLabel(bytes)}, no flush, vs berth's mirror cold pull of ${blob}`;
  const touchRow = `first touch of ${sizeLabel(bytes)} of new memory, node Buffer fill (MB/s)`;
  for (let run = 0; run < ctx.cfg.runs; run++) {
    for (const mode of ['durable', 'memory'] as const) await measure(smallRows[mode], run, () => barePushes(ctx, work, mode));
    await measure(cacheRow, run, () => ddNoFlushOnce(work, bytes, run));
    await measure(touchRow, run, () => firstTouchOnce(bytes));
  }
  for (let run = 0; run < ctx.cfg.runs; run++) rmSync(join(work, `dd-cache-${run}.bin`), { force: true });
  copy(smallRows.durable, from.smallPush, 'pushes/s', 'berth', 'berth');
  if (from.mirror) copy(cacheRow, from.mirror, `pull ${blob} (MB/s)`, 'berth', 'cold');
  else sec.fail(cacheRow, 'berth', 'section 8 did not run');

  const berth = ctx.registries.find((r) => r.name === 'berth');
  if (!berth) {
    sec.fail(LIMIT_ROWS.manifestRps, 'berth', 'berth did not run');
    return sec;
  }
  let bare: { url: URL; stop: () => Promise<void> } | undefined;
  try {
    bare = await startBare(ctx, berth, work);
    const targets = [
      { col: 'limit', url: bare.url },
      { col: 'berth', url: new URL(bare.url.pathname, berth.base) },
    ];
    const load = (url: URL, seconds: number): ReturnType<typeof runLoad> =>
      runLoad({ url, method: 'GET', connections: 64, seconds, headers: { Accept: MANIFEST_ACCEPT } });
    for (const t of targets) await load(t.url, ctx.cfg.warmupSeconds);
    for (let run = 0; run < ctx.cfg.runs; run++) {
      for (const t of targets) {
        const r = await load(t.url, ctx.cfg.loadSeconds);
        sec.add(LIMIT_ROWS.manifestRps, t.col, r.rps, r.errors);
        sec.add(LIMIT_ROWS.manifestP99, t.col, r.p99ms);
        log(ctx, `${LIMIT_ROWS.manifestRps} run ${run + 1}/${ctx.cfg.runs} ${t.col}: ${r.rps.toFixed(0)}`);
      }
    }
  } catch (err) {
    sec.fail(LIMIT_ROWS.manifestRps, 'limit', errMsg(err));
    log(ctx, `bare node:http FAILED: ${errMsg(err)}`);
  } finally {
    await bare?.stop();
  }
  return sec;
}
