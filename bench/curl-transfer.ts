// Issue 18's transfer rows with curl as the client, 256 MiB in quick and full mode alike:
// 1b. monolithic push with `curl -T`, 3b. pull with `curl`, 3c. concurrent pulls of one blob.
import { appendFileSync, copyFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { errMsg, interleave, log, MB, newSection, rssPhase, sizeLabel, syncDisks, type Ctx } from './context.ts';
import { generateSource, makePayload, type Payload, type SourceFile } from './payload.ts';
import { haveCurl, pull, pushWithCurl, verifyBlob } from './push.ts';
import type { Server } from './servers.ts';
import type { Section } from './table.ts';

const REPO = 'bench/curl';
/** The file nginx serves in 3b and 3c: berth's pushed payload, byte for byte. */
const NGINX_FILE = 'blob-curl.bin';

export interface CurlPushed {
  /** One payload per registry, pushed in 1b, pulled in 3b and 3c. */
  pushed: Map<string, Payload>;
  /** nginx's copy of the same bytes (berth's payload; distribution's when berth did not run). */
  nginxUrl?: URL;
}

export const curlPushMetric = (ctx: Pick<Ctx, 'cfg'>): string => `curl -T push ${sizeLabel(ctx.cfg.curlBlobSize)} (MB/s)`;
export const curlPullMetric = (ctx: Pick<Ctx, 'cfg'>): string => `curl pull ${sizeLabel(ctx.cfg.curlBlobSize)} (MB/s)`;
export const concurrentPullMetric = (ctx: Pick<Ctx, 'cfg'>): string => `${ctx.cfg.concurrentPulls} pulls: aggregate (MB/s)`;

/** The 256 MiB source: section 1's when it is that size (quick mode), else one of its own. */
function curlSource(ctx: Ctx, work: string): SourceFile {
  if (ctx.source.size + 32 === ctx.cfg.curlBlobSize) return ctx.source;
  log(ctx, `generating ${sizeLabel(ctx.cfg.curlBlobSize)} random source file for the curl rows`);
  return generateSource(join(work, 'curl-source.bin'), ctx.cfg.curlBlobSize);
}

/** 1b: POST, then `curl -T <file> -X PUT`, each push a distinct file (the source + a random trailer) written untimed. */
export async function curlPushSection(ctx: Ctx, work: string): Promise<{ section: Section; result: CurlPushed }> {
  const size = sizeLabel(ctx.cfg.curlBlobSize);
  const sec = newSection(`1b. Monolithic blob push, ${size}, \`curl -T\``, false);
  const result: CurlPushed = { pushed: new Map() };
  const metric = curlPushMetric(ctx);
  sec.notes.push(
    `POST (node:http), then \`curl -T <file> -X PUT -H 'Content-Type: application/octet-stream' '<Location>&digest=...'\`; ` +
      `${ctx.cfg.curlPushRuns} interleaved run(s), median. Time = the POST + curl's time_total. Each push a distinct ${size} file ` +
      '(random source + random trailer) written before the push; `sync` runs before each timed push. curl sends ' +
      '`Expect: 100-continue` (as it does for large bodies): the server\'s 100 answer is in the time.',
  );
  if (!haveCurl()) {
    for (const t of ctx.registries) sec.fail(metric, t.name, 'no /usr/bin/curl');
    return { section: sec, result };
  }
  const source = curlSource(ctx, work);
  await rssPhase(ctx, 'curl -T push', () =>
    interleave(
      ctx,
      sec,
      metric,
      ctx.registries,
      async (t) => {
        const p = makePayload(source);
        const file = join(work, `curl-push-${t.name}.bin`);
        try {
          copyFileSync(source.path, file);
          appendFileSync(file, p.trailer);
          syncDisks();
          const secs = await pushWithCurl(t, REPO, file, p.size, p.digest);
          if (!result.pushed.has(t.name)) {
            result.pushed.set(t.name, p);
            // nginx serves the first pushed payload's file itself (berth's when berth runs).
            if (result.nginxUrl === undefined) {
              renameSync(file, join(ctx.nginx.root, NGINX_FILE));
              result.nginxUrl = new URL(`/${NGINX_FILE}`, ctx.nginx.base);
            }
          }
          return { value: p.size / MB / secs };
        } finally {
          rmSync(file, { force: true });
        }
      },
      ctx.cfg.curlPushRuns,
    ),
  );
  if (source !== ctx.source) rmSync(source.path, { force: true });
  return { section: sec, result };
}

/** Check each registry's 1b blob (untimed, full sha256) and warm every target once. Returns the pullable targets. */
async function prepare(ctx: Ctx, sec: Section, metrics: string[], pushed: CurlPushed): Promise<Server[]> {
  const live: Server[] = [];
  for (const t of ctx.registries) {
    const p = pushed.pushed.get(t.name);
    try {
      if (!p) throw new Error('no blob was pushed in 1b');
      await verifyBlob(t, REPO, p);
      live.push(t);
    } catch (err) {
      for (const m of metrics) sec.fail(m, t.name, errMsg(err));
    }
  }
  if (pushed.nginxUrl) {
    await pull(pushed.nginxUrl, ctx.cfg.curlBlobSize, 'nginx warm-up');
    live.push(ctx.nginx);
  }
  return live;
}

function blobUrl(t: Server, pushed: CurlPushed): URL {
  if (t.name === 'nginx') {
    if (!pushed.nginxUrl) throw new Error('nginx has no copy');
    return pushed.nginxUrl;
  }
  const p = pushed.pushed.get(t.name);
  if (!p) throw new Error('no blob');
  return new URL(`/v2/${REPO}/blobs/${p.digest}`, t.base);
}

/** 3b and 3c: one `curl` pull of the 1b blob (interleaved runs), then `concurrentPulls` curls of it at once. */
export async function curlPullSections(ctx: Ctx, pushed: CurlPushed): Promise<[single: Section, concurrent: Section]> {
  const size = sizeLabel(ctx.cfg.curlBlobSize);
  const n = ctx.cfg.concurrentPulls;
  const single = newSection(`3b. Blob pull, ${size}, \`curl\``);
  single.notes.push(
    `\`curl -s -o /dev/null\` GET of the 1b blob, length checked (sha256 checked once, untimed); ${ctx.cfg.curlPullRuns} interleaved ` +
      'run(s), median; curl\'s time_total. nginx serves berth\'s pushed file itself (the same bytes) with sendfile. From page cache.',
  );
  const many = newSection(`3c. ${n} concurrent pulls of one ${size} blob, \`curl\``);
  many.notes.push(
    `${n} curl processes GET the same 1b blob at once; aggregate = ${n} x ${size} / wall time from the first spawn to the last exit; ` +
      `${ctx.cfg.runs} interleaved run(s), median.`,
  );
  const singleMetric = curlPullMetric(ctx);
  const manyMetric = concurrentPullMetric(ctx);
  const live = await prepare(ctx, single, [singleMetric], pushed);
  for (const t of [...ctx.registries, ctx.nginx]) if (!live.includes(t)) many.fail(manyMetric, t.name, 'no blob to pull (see 3b)');
  await rssPhase(ctx, 'curl pull', () =>
    interleave(
      ctx,
      single,
      singleMetric,
      live,
      async (t) => {
        const r = await pull(blobUrl(t, pushed), ctx.cfg.curlBlobSize, t.name);
        return { value: r.bytes / MB / r.seconds };
      },
      ctx.cfg.curlPullRuns,
    ),
  );
  await rssPhase(ctx, `${n} concurrent pulls`, () =>
    interleave(ctx, many, manyMetric, live, async (t) => {
      const url = blobUrl(t, pushed);
      const t0 = performance.now();
      const rs = await Promise.all(Array.from({ length: n }, () => pull(url, ctx.cfg.curlBlobSize, t.name)));
      const secs = (performance.now() - t0) / 1000;
      return { value: rs.reduce((s, r) => s + r.bytes, 0) / MB / secs };
    }),
  );
  return [single, many];
}
