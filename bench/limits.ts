// 15. The machine's limits beside berth's figures: nginx sendfile (from 3b/3c), dd with
// fdatasync on the bench's temp dir, sha256 in node:crypto, and a bare node:http server that
// answers berth's manifest GET by tag with the same bytes and headers, under the same wrk load.
import { spawnSync } from 'node:child_process';
import { randomFillSync, createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { request, waitForHttp } from './client.ts';
import { errMsg, log, MB, MIB, sizeLabel, syncDisks, type Ctx } from './context.ts';
import { concurrentPullMetric, curlPullMetric, curlPushMetric } from './curl-transfer.ts';
import { runLoad } from './http-load.ts';
import { startProc, stopProc } from './procs.ts';
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
export async function limitsSection(ctx: Ctx, work: string, from: { curlPush: Section; curlPull: Section; concurrentPulls: Section }): Promise<Section> {
  const sec = newLimitsSection();
  const bytes = ctx.cfg.limitBytes;
  const size = sizeLabel(ctx.cfg.curlBlobSize);
  sec.notes.push(
    `Pull rows: nginx (sendfile) and berth from 3b/3c (not re-measured). Write row: \`dd if=/dev/zero bs=1M count=${bytes / MIB} ` +
      `conv=fdatasync\` on the bench's temp dir (dd's own rate) beside berth's \`curl -T\` push of ${size} (1b). sha256: node:crypto in ` +
      `the bench process, 16 MiB updates. Manifest rows: a bare node:http server (bench/bare-server.ts, its own process) answering ` +
      `every request with berth's manifest-by-tag bytes and headers, and berth, under the same wrk command as section 4, ` +
      `${ctx.cfg.runs} interleaved run(s) here, median.`,
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
  const ddRow = `write with fdatasync (MB/s): dd ${sizeLabel(bytes)} vs berth curl -T push ${size}`;
  const shaRow = `sha256 of ${sizeLabel(bytes)}, node:crypto (MB/s)`;
  for (let run = 0; run < ctx.cfg.runs; run++) {
    for (const [row, once] of [
      [ddRow, () => ddOnce(work, bytes)],
      [shaRow, () => sha256Once(bytes)],
    ] as const) {
      try {
        const v = once();
        sec.add(row, 'limit', v);
        log(ctx, `${row} run ${run + 1}/${ctx.cfg.runs}: ${v.toFixed(0)}`);
      } catch (err) {
        sec.fail(row, 'limit', errMsg(err));
      }
    }
  }
  copy(ddRow, from.curlPush, curlPushMetric(ctx), 'berth', 'berth');

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
