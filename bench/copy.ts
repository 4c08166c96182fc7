// 18. Moving images (issue 17): `berth cp` beside `skopeo copy` of one image of 20 layers (1 GiB
// in all) between two registries on loopback, and a replication pull rule over 1,000 small tags.
// Also runnable alone: node --import tsx bench/copy.ts
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { expectStatus, location, request } from './client.ts';
import { readConfig } from './config.ts';
import { errMsg, log, MB, MIB, sizeLabel, syncDisks } from './context.ts';
import { sha256 } from './payload.ts';
import { installCleanupHandlers, makeTempDir, runMain, stopProc } from './procs.ts';
import { seedManyTags, sourceRequests, type RequestCount } from './copy-seed.ts';
import { BERTH_HOME, buildBerth, startBerth, startDistribution, type Server } from './servers.ts';
import { Section } from './table.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const LAYERS = 20;
const IMAGE = 'bench/big';
const MANY = 'bench/many';
const TAGS = 1000;

export interface CopyCtx {
  started: number;
  runs: number;
  quick: boolean;
}

interface Image {
  ref: string;
  /** Blob bytes: the layers and the config. */
  bytes: number;
}

/** POST + PUT ?digest= of one blob held in memory. */
async function putBlob(base: URL, repo: string, data: Buffer, digest: string): Promise<void> {
  const what = `push ${digest.slice(0, 19)} to ${repo}`;
  const loc = location(expectStatus(await request('POST', new URL(`/v2/${repo}/blobs/uploads/`, base)), [202], what), base, what);
  loc.searchParams.set('digest', digest);
  const res = await request('PUT', loc, { headers: { 'content-type': 'application/octet-stream', 'content-length': data.length }, body: data, timeoutMs: 300_000 });
  expectStatus(res, [201], what);
}

/**
 * An image of LAYERS gzip layers of incompressible bytes (stored deflate blocks: real gzip, as
 * layers are, at no compression cost), about `total` bytes in all, pushed as repo:1.
 */
async function pushBigImage(base: URL, repo: string, total: number): Promise<Image> {
  const size = Math.floor(total / LAYERS);
  const layers: { mediaType: string; digest: string; size: number }[] = [];
  const diffIds: string[] = [];
  // Four pushes at once: at most four layers in memory.
  let next = 0;
  const pusher = async (): Promise<void> => {
    for (let i = next++; i < LAYERS; i = next++) {
      const raw = randomBytes(i === 0 ? total - size * (LAYERS - 1) : size);
      const data = gzipSync(raw, { level: 0 });
      const digest = sha256(data);
      diffIds[i] = sha256(raw);
      await putBlob(base, repo, data, digest);
      layers[i] = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: data.length };
    }
  };
  await Promise.all(Array.from({ length: 4 }, pusher));
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds }, history: [{ created_by: 'berth bench' }] }),
  );
  await putBlob(base, repo, config, sha256(config));
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length }, layers }),
  );
  const res = await request('PUT', new URL(`/v2/${repo}/manifests/1`, base), { headers: { 'content-type': OCI_MANIFEST, 'content-length': manifest.length }, body: manifest });
  expectStatus(res, [201], `PUT manifest ${repo}:1`);
  return { ref: `${base.host}/${repo}:1`, bytes: layers.reduce((n, l) => n + l.size, config.length) };
}

/**
 * berth's CLI from its compiled build (dist/cli/index.js), as an installed `berth` runs it. Not
 * through bin/berth.js: that runs the sources through tsx whenever a source file is newer than
 * `npm start`'s build stamp, which would add seconds of transpiling to every copy.
 */
function berthCli(args: string[]): string[] {
  const entry = pathToFileURL(join(BERTH_HOME, 'dist', 'cli', 'index.js')).href;
  const code = `const { runCli } = await import(${JSON.stringify(entry)}); process.exitCode = await runCli(process.argv.slice(1));`;
  return [process.execPath, '--max-semi-space-size=8', '--input-type=module', '-e', code, ...args];
}

type Tool = 'berth' | 'skopeo';

function copyCommand(tool: Tool, from: string, to: string): string[] {
  if (tool === 'berth') return berthCli(['cp', `docker://${from}`, `docker://${to}`, '--quiet']);
  return ['skopeo', 'copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${from}`, `docker://${to}`];
}

/** Run a command under /usr/bin/time: wall seconds (from the spawn to the exit) and the process's peak RSS. */
async function timed(cmd: string[], scratch: string): Promise<{ seconds: number; peakBytes: number; out: string }> {
  const rusage = join(scratch, 'rusage.txt');
  rmSync(rusage, { force: true });
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%M', '-o', rusage, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-4000)));
  child.stderr.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-4000)));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`${cmd.slice(0, 2).join(' ')} exited ${code}: ${out.trim().slice(-400)}`);
  const kib = Number.parseInt(readFileSync(rusage, 'utf8').trim().split('\n').at(-1) ?? '', 10);
  return { seconds, peakBytes: kib * 1024, out };
}

function haveSkopeo(): boolean {
  return spawnSync('sh', ['-c', 'command -v skopeo']).status === 0;
}

/** Every blob of the image read once (untimed): its pushes wrote them with O_DIRECT, copies read them from the page cache. */
async function warmSource(base: URL, repo: string): Promise<void> {
  const res = expectStatus(await request('GET', new URL(`/v2/${repo}/manifests/1`, base), { headers: { accept: OCI_MANIFEST } }), [200], 'GET manifest');
  const m = JSON.parse(res.body.toString()) as { config: { digest: string }; layers: { digest: string }[] };
  for (const d of [m.config.digest, ...m.layers.map((l) => l.digest)]) {
    expectStatus(await request('GET', new URL(`/v2/${repo}/blobs/${d}`, base), { maxBody: 0, timeoutMs: 300_000 }), [200], `GET ${d}`);
  }
}

type DestKind = 'berth' | 'distribution';

/** A destination registry of its own, empty, in `dir` (removed by the returned stop). */
async function startDest(kind: DestKind, dir: string): Promise<{ srv: Server; stop: () => Promise<void> }> {
  const srv = kind === 'berth' ? await startBerth(dir, { dataDir: 'data', label: 'berth-dest' }) : await startDistribution(dir);
  return {
    srv,
    stop: async () => {
      await stopProc(srv.proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const TOOLS = ['berth', 'skopeo'] as const;

/**
 * 18a: berth cp and skopeo copy, interleaved: into an empty registry of its own each run (every
 * byte sent), then into a new repository of a registry that has the blobs, then onto the same tag again.
 */
async function cpRows(ctx: CopyCtx, work: string, sec: Section): Promise<void> {
  const total = (ctx.quick ? 256 : 1024) * MIB;
  const size = `${sizeLabel(total)}, ${LAYERS} layers`;
  const a = await startBerth(work, { dataDir: 'copy-a', label: 'berth-a' });
  const scratch = makeTempDir('berth-bench-copy-scratch-');
  try {
    log(ctx, `copy: pushing the ${size} image to registry A`);
    const image = await pushBigImage(a.base, IMAGE, total);
    await warmSource(a.base, IMAGE);
    const dests: { kind: DestKind; label: string; runs: number }[] = [
      { kind: 'berth', label: 'berth → berth', runs: ctx.quick ? 1 : Math.max(ctx.runs, 5) },
      { kind: 'distribution', label: 'berth → distribution', runs: ctx.quick ? 1 : 3 },
    ];
    for (const d of dests) {
      const secs = `${d.label}, ${size}, into an empty registry (s)`;
      const rate = `${d.label}, ${size}, into an empty registry (MB/s)`;
      const rss = `${d.label}: the client's peak RSS (MiB)`;
      for (let run = 1; run <= d.runs; run++) {
        for (const tool of TOOLS) {
          if (sec.failed(secs, tool)) continue;
          const dest = await startDest(d.kind, join(work, 'copy-dest'));
          try {
            syncDisks();
            const r = await timed(copyCommand(tool, image.ref, `${dest.srv.base.host}/${IMAGE}:1`), scratch);
            if (tool === 'berth' && !/blobs 21 copied, 0 skipped/.test(r.out)) throw new Error(`not every blob was sent: ${r.out.trim()}`);
            sec.add(secs, tool, r.seconds);
            sec.add(rate, tool, image.bytes / MB / r.seconds);
            sec.add(rss, tool, r.peakBytes / MIB);
            log(ctx, `copy ${d.label} run ${run}/${d.runs} ${tool}: ${r.seconds.toFixed(2)} s, ${(image.bytes / MB / r.seconds).toFixed(0)} MB/s, peak ${(r.peakBytes / MIB).toFixed(0)} MiB`);
          } catch (err) {
            sec.fail(secs, tool, errMsg(err));
            log(ctx, `copy ${d.label} ${tool} FAILED: ${errMsg(err)}`);
          } finally {
            await dest.stop();
          }
        }
      }
      // One destination that has the image (an untimed copy by each tool, which also tells its
      // blob-location memory where the blobs are: skopeo's blob-info cache, berth cp's
      // ~/.cache/berth/blob-locations), then a new repository each run, then the same tag again.
      const dest = await startDest(d.kind, join(work, 'copy-dest'));
      try {
        const host = dest.srv.base.host;
        await timed(copyCommand('skopeo', image.ref, `${host}/warm/x:1`), scratch);
        await timed(copyCommand('berth', image.ref, `${host}/warm-berth/x:1`), scratch);
        const fresh = `${d.label}, into a new repository of a registry that has the blobs (s)`;
        const again = `${d.label}, onto the same tag again: all skipped (s)`;
        for (let run = 1; run <= (ctx.quick ? 1 : 5); run++) {
          for (const tool of TOOLS) {
            const rows = [
              // the same finding for either destination: measured into a berth only, 3 runs (5 s a copy)
              ...(d.kind === 'berth' && run <= 3 ? [[fresh, `${host}/${tool}/run-${run}:1`, /blobs 0 copied, 0 skipped, 21 mounted/] as const] : []),
              [again, `${host}/warm/x:1`, /blobs 0 copied, 21 skipped/] as const,
            ];
            for (const [metric, to, summary] of rows) {
              if (sec.failed(metric, tool)) continue;
              try {
                syncDisks();
                const r = await timed(copyCommand(tool, image.ref, to), scratch);
                if (tool === 'berth' && !summary.test(r.out)) throw new Error(`unexpected summary: ${r.out.trim()}`);
                sec.add(metric, tool, r.seconds);
              } catch (err) {
                sec.fail(metric, tool, errMsg(err));
              }
            }
          }
        }
        if (d.kind === 'berth') log(ctx, `copy ${d.label} new repository: berth ${sec.value(fresh, 'berth').toFixed(2)} s, skopeo ${sec.value(fresh, 'skopeo').toFixed(2)} s`);
        log(ctx, `copy ${d.label} again: berth ${sec.value(again, 'berth').toFixed(2)} s, skopeo ${sec.value(again, 'skopeo').toFixed(2)} s`);
      } finally {
        await dest.stop();
      }
    }
  } finally {
    await stopProc(a.proc);
    rmSync(join(work, 'copy-a'), { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
}

interface RunView {
  id: number;
  status: string;
  copied: number;
  skipped: number;
  failed: number;
  started: string;
  finished: string | null;
}

/** Trigger the rule and wait for its run's end: seconds from the trigger sent to the end the run recorded (same clock). */
async function replicate(base: URL, rule: string): Promise<RunView & { seconds: number }> {
  const sent = Date.now();
  const res = await request('POST', new URL(`/api/v1/replication/${rule}/trigger`, base));
  const { id } = JSON.parse(expectStatus(res, [202], `trigger ${rule}`).body.toString()) as RunView;
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const runs = JSON.parse(expectStatus(await request('GET', new URL(`/api/v1/replication/${rule}/runs`, base)), [200], 'runs').body.toString()) as RunView[];
    const run = runs.find((r) => r.id === id);
    if (run !== undefined && run.status !== 'running' && run.finished !== null) return { ...run, seconds: (Date.parse(run.finished) - sent) / 1000 };
    await sleep(50);
  }
  throw new Error(`run ${id} of ${rule} did not end in 300 s`);
}

function describeCount(c: RequestCount): string {
  return [...c.byRoute].sort((x, y) => y[1] - x[1]).map(([k, n]) => `${k} ${n}`).join(', ');
}

/** 18b: a pull rule over one repository of TAGS tags from another berth; first run (all copied), second (all skipped). */
async function replicationRows(ctx: CopyCtx, work: string, sec: Section): Promise<void> {
  const src = await startBerth(work, { dataDir: 'repl-src', label: 'berth-repl-source' });
  const config = join(work, 'repl.yml');
  // JSON is YAML. The rule names its repository (no wildcard): no catalog listing.
  const rule = { name: 'many', direction: 'pull', remote: { url: src.base.href.replace(/\/$/, '') }, filters: { repositories: [MANY] } };
  writeFileSync(config, JSON.stringify({ version: '0.1', replication: { rules: [rule] } }));
  let dst: Server | undefined;
  try {
    log(ctx, `replication: seeding ${TAGS} tags into the source`);
    const seeded = await seedManyTags(src.base, MANY, TAGS);
    log(ctx, `replication: seeded in ${seeded.toFixed(1)} s`);
    const rounds = ctx.quick ? 1 : 2;
    for (let round = 1; round <= rounds; round++) {
      // Each round: a destination of its own, empty.
      rmSync(join(work, 'repl-dst'), { recursive: true, force: true });
      dst = await startBerth(work, { dataDir: 'repl-dst', label: 'berth-repl-dest', env: { REGISTRY_CONFIGURATION_PATH: config } });
      for (const col of ['first', 'again'] as const) {
        try {
          const before = await sourceRequests(src.base);
          const run = await replicate(dst.base, 'many');
          const after = await sourceRequests(src.base, before);
          const want = col === 'first' ? run.copied : run.skipped;
          if (run.status !== 'succeeded' || want !== TAGS) throw new Error(`run ${run.id}: ${run.status}, ${run.copied} copied, ${run.skipped} skipped, ${run.failed} failed`);
          sec.add('seconds, trigger to the run\'s end', col, run.seconds);
          sec.add('requests the source answered', col, after.total);
          sec.add('requests per tag', col, after.total / TAGS);
          log(ctx, `replication round ${round} ${col}: ${run.seconds.toFixed(2)} s, ${after.total} requests (${describeCount(after)})`);
          if (round === 1) sec.notes.push(`Requests of the ${col === 'first' ? 'first' : 'second'} run, round 1, by route: ${describeCount(after)}.`);
        } catch (err) {
          sec.fail("seconds, trigger to the run's end", col, errMsg(err));
          log(ctx, `replication ${col} FAILED: ${errMsg(err)}`);
        }
      }
      await stopProc(dst.proc);
      dst = undefined;
    }
  } finally {
    await Promise.all([stopProc(src.proc), ...(dst ? [stopProc(dst.proc)] : [])]);
    for (const dir of ['repl-src', 'repl-dst']) rmSync(join(work, dir), { recursive: true, force: true });
  }
}

/** Section 18: the two tables. `work` holds the registries' storage (removed as each part ends). */
export async function copySection(ctx: CopyCtx, work: string): Promise<Section[]> {
  // berth cp's upload sessions and blob locations in the bench's own directory, not the user's cache
  process.env['XDG_CACHE_HOME'] = join(work, 'xdg-cache');
  const cp = new Section(
    '18a. Moving images: `berth cp` beside `skopeo copy`, registry to registry',
    [
      { key: 'berth', label: 'berth cp' },
      { key: 'skopeo', label: 'skopeo copy' },
    ],
    { num: 'berth', den: 'skopeo', label: 'berth/skopeo' },
  );
  cp.notes.push(
    `One image of ${LAYERS} gzip layers of random bytes (stored deflate blocks) pushed once into a berth (A) and read once (into the page cache); ` +
      '`berth cp docker://A/... docker://B/... --quiet` (the compiled build, `node dist/cli/index.js`) beside ' +
      '`skopeo copy --preserve-digests --src-tls-verify=false --dest-tls-verify=false` (both copy as is, every digest kept), interleaved, median, ' +
      'each tool with its defaults (berth 4 blobs at once, skopeo 6). Seconds from the spawn to the exit; MB/s over the blob bytes; ' +
      "peak RSS: /usr/bin/time's maximum resident set of the client. `sync` before each timed copy.",
    'Into an empty registry: a destination (berth, or distribution 2.8.2) started empty for each copy, so every byte is sent ' +
      "(berth cp's summary is checked: 21 copied). Into a new repository of a berth that has the blobs (3 runs; not repeated for distribution): skopeo mounts them " +
      "(its blob-info cache knows where they are in that registry), berth cp mounts them too (it remembers where it saw each blob, ~/.cache/berth/blob-locations). Onto the same tag again: nothing to send, HEADs and the manifest.",
  );
  const repl = new Section(`18b. Replication: a pull rule over one repository of ${TAGS.toLocaleString('en')} small tags, berth from berth`, [
    { key: 'first', label: `first run (${TAGS.toLocaleString('en')} copied)` },
    { key: 'again', label: 'second run (all skipped)' },
  ]);
  repl.notes.push(
    `The source berth holds ${MANY} with ${TAGS.toLocaleString('en')} tags, each a distinct image (one shared config, one layer of a few bytes); ` +
      'the destination berth has one pull rule naming that repository (defaults: 2 images at once, 4 blobs). Trigger through the API, then the ' +
      "run's recorded end (its `finished`, same clock) minus the moment the trigger was sent. Requests: the source's own " +
      '`berth_http_requests_total` (/metrics) before and after, its /metrics scrapes left out. Each round on a fresh, empty destination; median of the rounds.',
  );
  if (!haveSkopeo()) cp.fail('copy', 'skopeo', 'skopeo not installed');
  try {
    await cpRows(ctx, work, cp);
  } catch (err) {
    cp.fail('copy', 'berth', errMsg(err));
  }
  try {
    await replicationRows(ctx, work, repl);
  } catch (err) {
    repl.fail("seconds, trigger to the run's end", 'first', errMsg(err));
  }
  return [cp, repl];
}

/** Alone: build berth, run section 18, print it. */
async function main(): Promise<void> {
  installCleanupHandlers();
  const cfg = readConfig();
  const started = Date.now();
  const work = makeTempDir('berth-bench-copy-');
  buildBerth();
  const secs = await copySection({ started, runs: cfg.runs, quick: cfg.quick }, work);
  process.stdout.write(`\n${secs.map((s) => s.render()).join('\n\n')}\n`);
}

runMain(main, import.meta.url);
