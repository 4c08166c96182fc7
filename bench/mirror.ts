// 8. berth as a pull-through cache: a second berth (the mirror, REGISTRY_PROXY_REMOTEURL) in
// front of the benchmark's berth (the upstream). Each run pushes a fresh blob to the upstream
// (untimed), then pulls it directly from the upstream, cold through the mirror (fetched from
// the upstream while streamed to the client and written), and warm through the mirror.
// Beside them, the same work done by C tools: curl from the upstream piped through tee into a new
// file and into openssl's sha256 (no client to serve), the floor of a cold pull on this machine.
// Also runnable alone, for a quick check of these rows: node --import tsx bench/mirror.ts
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readConfig } from './config.ts';
import { errMsg, log, MB, MIB, sizeLabel, syncDisks, type Ctx } from './context.ts';
import { generateSource, makePayload, type Payload } from './payload.ts';
import { installCleanupHandlers, makeTempDir, peakRssBytes, resetPeakRss, runMain, stopProc } from './procs.ts';
import { pull, pushMonolithic } from './push.ts';
import { buildBerth, startBerth } from './servers.ts';
import { Section } from './table.ts';

const REPO = 'bench/mirrored';

/** Section 8; undefined without berth. `work` holds the mirror's storage. */
export async function mirrorSection(ctx: Ctx, work: string): Promise<Section | undefined> {
  const upstream = ctx.registries.find((r) => r.name === 'berth');
  if (upstream === undefined) return undefined;
  const size = sizeLabel(ctx.cfg.blobSize);
  const sec = new Section(
    `8. Mirror (pull-through cache), ${size} blob (berth only)`,
    [
      { key: 'direct', label: 'direct from upstream' },
      { key: 'cold', label: 'cold, through the mirror' },
      { key: 'warm', label: 'warm, through the mirror' },
      { key: 'tools', label: 'C tools: curl, tee to a file, openssl' },
    ],
    { num: 'cold', den: 'direct', label: 'cold/direct' },
  );
  sec.notes.push(
    'upstream: the berth above; mirror: a second berth with REGISTRY_PROXY_REMOTEURL set to it, its own storage on the same disk.',
    'Each run pushes a fresh blob to the upstream (untimed, then `sync`, then one untimed pull so that the upstream serves it from ' +
      'the page cache, as a hot blob is served), then pulls it direct, cold through the mirror ' +
      '(one upstream fetch, streamed to the client while written and verified), then warm (served from the mirror\'s disk), then the same ' +
      'work as a cold pull done by C tools: `curl -s <upstream blob> | tee <new file> | openssl dgst -sha256` (no client to serve). ' +
      'Each timed pull starts after a `sync`, so that none shares the disk with the flush of the pull before it. ' +
      'At least 5 interleaved runs, median: the direct pulls alone vary by a quarter from run to run.',
  );
  const mirror = await startBerth(work, { dataDir: 'mirror-data', label: 'mirror', env: { REGISTRY_PROXY_REMOTEURL: upstream.base.href } });
  const metric = `pull ${size} (MB/s)`;
  const peak = `mirror peak RSS, cold pull (MiB)`;
  try {
    // Interleaved per run: direct, cold, warm, each on that run's fresh blob.
    // Its direct pulls vary by a quarter from run to run (page cache, the host): five runs at least.
    const runs = ctx.cfg.quick ? ctx.cfg.runs : Math.max(ctx.cfg.runs, 5);
    for (let run = 0; run < runs; run++) {
      let p: Payload;
      try {
        p = makePayload(ctx.source);
        await pushMonolithic(upstream, REPO, p);
        syncDisks();
        // The push wrote with O_DIRECT and left nothing in the page cache: one untimed pull puts
        // the blob there, so that direct and cold both read a hot upstream blob, like for like.
        await pull(new URL(`/v2/${REPO}/blobs/${p.digest}`, upstream.base), p.size, 'upstream warm-up');
      } catch (err) {
        for (const col of ['direct', 'cold', 'warm', 'tools']) sec.fail(metric, col, `push to the upstream: ${errMsg(err)}`);
        break;
      }
      for (const col of ['direct', 'cold', 'warm', 'tools'] as const) {
        if (sec.failed(metric, col)) continue;
        try {
          // Each pull starts with no writeback in flight: the cold pull's commit flushes the whole
          // blob after its client has the last byte, and the warm pull would otherwise share the
          // disk and the cores with that flush (a pull long after the fill never does).
          syncDisks();
          if (col === 'cold') resetPeakRss(mirror.proc.pid);
          const url = new URL(`/v2/${REPO}/blobs/${p.digest}`, col === 'cold' || col === 'warm' ? mirror.base : upstream.base);
          const r = col === 'tools' ? await pullThroughTools(url, p, join(work, 'tools-copy.bin')) : await pull(url, p.size, col);
          if (col === 'cold') sec.add(peak, 'cold', peakRssBytes(mirror.proc.pid) / MIB);
          sec.add(metric, col, r.bytes / MB / r.seconds);
          log(ctx, `${metric} run ${run + 1}/${runs} ${col}: ${(r.bytes / MB / r.seconds).toFixed(0)}`);
        } catch (err) {
          sec.fail(metric, col, errMsg(err));
          log(ctx, `${metric} ${col} FAILED: ${errMsg(err)}`);
        }
      }
    }
  } finally {
    await stopProc(mirror.proc);
  }
  return sec;
}

/**
 * `curl -s URL | tee FILE | openssl dgst -sha256`: what a cold pull does (receive, write a new
 * file through the page cache, hash) in C, without a client to serve. The digest is checked.
 */
async function pullThroughTools(url: URL, p: Payload, file: string): Promise<{ bytes: number; seconds: number }> {
  rmSync(file, { force: true });
  const t0 = performance.now();
  const child = spawn('bash', ['-o', 'pipefail', '-c', `curl -sf "$0" | tee "$1" | openssl dgst -sha256 -r`, url.href, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const seconds = (performance.now() - t0) / 1000;
  rmSync(file, { force: true });
  const hex = /^([0-9a-f]{64})/.exec(out)?.[1];
  if (code !== 0 || `sha256:${hex}` !== p.digest) throw new Error(`curl | tee | openssl exited ${code}: ${out.trim().slice(-200)}`);
  return { bytes: p.size, seconds };
}

/** Alone: build, start the upstream berth, run section 8, print it. */
async function main(): Promise<void> {
  installCleanupHandlers();
  const cfg = readConfig();
  const started = Date.now();
  const work = makeTempDir('berth-bench-mirror-');
  buildBerth();
  const berth = await startBerth(work);
  log({ started }, `generating ${sizeLabel(cfg.blobSize)} random source file`);
  const source = generateSource(join(work, 'blob.bin'), cfg.blobSize);
  const ctx = { cfg, registries: [berth], nginx: berth, source, rss: new Section('', [], { num: '', den: '', label: '' }), peakOverall: new Map(), started };
  const sec = await mirrorSection(ctx, work);
  process.stdout.write(`\n${sec?.render() ?? 'no berth'}\n`);
}

runMain(main, import.meta.url);
