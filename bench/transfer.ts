// Sections 1-3, 5 and the berth-only big-blob memory check.
import { interleave, log, MB, MIB, newSection, rssPhase, sizeLabel, syncDisks, errMsg, type Ctx } from './context.ts';
import { makePayload, type Payload } from './payload.ts';
import { peakRssBytes, resetPeakRss } from './procs.ts';
import { pull, pushChunked, pushMonolithic, pushSmallBlobs, verifyBlob, haveCurl } from './push.ts';
import { Section } from './table.ts';

const BLOB_REPO = 'bench/blob';
const CHUNKED_REPO = 'bench/chunked';
const SMALL_REPO = 'bench/small';

/** 1 + 2: monolithic and chunked pushes. Returns one pushed payload per registry (for the pull). */
export async function pushSections(ctx: Ctx): Promise<{ sections: [mono: Section, chunked: Section]; pushed: Map<string, Payload> }> {
  const size = sizeLabel(ctx.cfg.blobSize);
  const pushed = new Map<string, Payload>();

  const mono = newSection(`1. Monolithic blob push, ${size}`, false);
  mono.notes.push(
    'POST /v2/bench/blob/blobs/uploads/ then PUT <Location>?digest= with the body streamed from a file (node:http client).',
    'Every push is a distinct blob (random file + random trailer). `sync` runs before each timed push; writeback after the 201 is not timed.',
  );
  const monoMetric = `push ${size} (MB/s)`;
  await rssPhase(ctx, 'monolithic push', () =>
    interleave(ctx, mono, monoMetric, ctx.registries, async (t) => {
      const p = makePayload(ctx.source);
      syncDisks();
      const secs = await pushMonolithic(t, BLOB_REPO, p);
      if (!pushed.has(t.name)) pushed.set(t.name, p);
      return { value: p.size / MB / secs };
    }),
  );

  const chunk = sizeLabel(ctx.cfg.chunkSize);
  const chunked = newSection(`2. Chunked blob push, ${size} in ${chunk} PATCHes`, false);
  chunked.notes.push('POST, then PATCH each chunk with `Content-Range: start-end` following Location, then PUT ?digest= with an empty body.');
  await rssPhase(ctx, 'chunked push', () =>
    interleave(ctx, chunked, `push ${size} (MB/s)`, ctx.registries, async (t) => {
      const p = makePayload(ctx.source);
      syncDisks();
      const secs = await pushChunked(t, CHUNKED_REPO, p, ctx.cfg.chunkSize);
      return { value: p.size / MB / secs };
    }),
  );
  return { sections: [mono, chunked], pushed };
}

/** 3: pull the blob pushed in section 1; nginx serves the same random file with sendfile. */
export async function pullSection(ctx: Ctx, pushed: Map<string, Payload>): Promise<Section> {
  const size = sizeLabel(ctx.cfg.blobSize);
  const sec = newSection(`3. Blob pull, ${size}`);
  sec.notes.push(
    `GET /v2/bench/blob/blobs/<digest>, body discarded by ${haveCurl() ? 'curl -o /dev/null' : 'node:http'}, length checked; ` +
      'nginx serves the source file (32 bytes shorter) as the static-file ceiling. Served from page cache.',
  );
  const metric = `pull ${size} (MB/s)`;
  for (const t of ctx.registries) {
    const p = pushed.get(t.name);
    if (!p) {
      sec.fail(metric, t.name, 'no blob was pushed in section 1');
      continue;
    }
    try {
      await verifyBlob(t, BLOB_REPO, p); // untimed: full sha256 check, also warms the cache
    } catch (err) {
      sec.fail(metric, t.name, errMsg(err));
    }
  }
  const targets = [...ctx.registries, ctx.nginx];
  const nginxUrl = new URL('/blob.bin', ctx.nginx.base);
  await pull(nginxUrl, ctx.source.size, 'nginx warm-up');
  await rssPhase(ctx, 'pull', () =>
    interleave(ctx, sec, metric, targets, async (t) => {
      if (t.name === 'nginx') {
        const r = await pull(nginxUrl, ctx.source.size, 'nginx');
        return { value: r.bytes / MB / r.seconds };
      }
      const p = pushed.get(t.name);
      if (!p) throw new Error('no blob');
      const r = await pull(new URL(`/v2/${BLOB_REPO}/blobs/${p.digest}`, t.base), p.size, t.name);
      return { value: r.bytes / MB / r.seconds };
    }),
  );
  return sec;
}

/** 5: many sequential small pushes. */
export async function smallPushSection(ctx: Ctx): Promise<Section> {
  const { smallPushes: n, smallBlobSize } = ctx.cfg;
  const sec = newSection(`5. ${n} sequential ${smallBlobSize / 1024} KiB blob pushes`, false);
  sec.notes.push('Each a distinct random blob; POST + PUT ?digest= (two requests) on one keep-alive connection.');
  await rssPhase(ctx, 'small pushes', () =>
    interleave(ctx, sec, 'pushes/s', ctx.registries, async (t) => ({
      value: await pushSmallBlobs(t, SMALL_REPO, n, smallBlobSize),
    })),
  );
  return sec;
}

/** 6b: berth only — peak RSS for a blob 4x larger must not be larger. */
export async function bigBlobSection(ctx: Ctx): Promise<Section | undefined> {
  const berth = ctx.registries.find((r) => r.name === 'berth');
  if (!berth || !ctx.cfg.big) return undefined;
  const k = ctx.cfg.bigRepeat;
  const small = sizeLabel(ctx.cfg.blobSize);
  const big = sizeLabel(ctx.cfg.blobSize * k);
  const sec = new Section(
    `6b. berth memory vs blob size (${small} vs ${big}, 1 run)`,
    [
      { key: 'small', label: small },
      { key: 'big', label: big },
    ],
    { num: 'big', den: 'small', label: `${big} / ${small}` },
  );
  sec.notes.push('berth only. VmHWM reset (clear_refs) before each push; memory must not grow with blob size (ratio ~1.0).');
  const kinds = [
    { name: 'monolithic', push: (p: Payload) => pushMonolithic(berth, 'bench/big', p) },
    { name: 'chunked', push: (p: Payload) => pushChunked(berth, 'bench/big', p, ctx.cfg.chunkSize) },
  ];
  for (const kind of kinds) {
    for (const [col, repeat] of [
      ['small', 1],
      ['big', k],
    ] as const) {
      try {
        log(ctx, `big blob: hashing ${col} payload`);
        const p = makePayload(ctx.source, repeat);
        syncDisks();
        resetPeakRss(berth.proc.pid);
        const secs = await kind.push(p);
        const peak = peakRssBytes(berth.proc.pid);
        sec.add(`${kind.name} push (MB/s)`, col, p.size / MB / secs);
        sec.add(`${kind.name} push: peak RSS (MiB)`, col, peak / MIB);
        log(ctx, `big blob ${kind.name} ${sizeLabel(p.size)}: ${(p.size / MB / secs).toFixed(0)} MB/s, peak RSS ${(peak / MIB).toFixed(0)} MiB`);
      } catch (err) {
        sec.fail(`${kind.name} push (MB/s)`, col, errMsg(err));
        log(ctx, `big blob ${kind.name} FAILED: ${errMsg(err)}`);
      }
    }
  }
  return sec;
}
