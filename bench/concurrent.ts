// Issue 18's concurrent push rows: 2b. N clients pushing distinct large blobs at once, and
// 5b. 4 KiB pushes from 1, 8 and 32 concurrent pushers. Each client has its own keep-alive
// connection (an agent of one socket), so that N clients are N connections to the server.
import http from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { rmSync } from 'node:fs';
import { interleave, MB, newSection, rssPhase, sizeLabel, syncDisks, type Ctx } from './context.ts';
import { generateSource, makePayload, smallBlob } from './payload.ts';
import { pushBlobsInTurn, pushMonolithic } from './push.ts';
import type { Section } from './table.ts';

const BIG_REPO = 'bench/concurrent';
const SMALL_REPO = 'bench/small-concurrent';
/**
 * Read size from the source file per client. Measured with 32 clients x 64 MiB: the bench process
 * peaked at 306 MiB RSS with 1 MiB reads, 181 MiB with 256 KiB (about 80 MiB of it tsx and modules).
 */
const CLIENT_BUFFER = 256 * 1024;

/** One client per item, all at once, each with a one-socket keep-alive agent; returns wall seconds. */
async function atOnce<T>(items: T[], fn: (item: T, agent: http.Agent) => Promise<unknown>): Promise<number> {
  const agents = items.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  try {
    const t0 = performance.now();
    await Promise.all(items.map((item, i) => fn(item, agents[i] as http.Agent)));
    return (performance.now() - t0) / 1000;
  } finally {
    for (const a of agents) a.destroy();
  }
}

export const concurrentPushMetric = (clients: number, what: 'MB/s' | 's'): string =>
  clients + ' pushers: ' + (what === 'MB/s' ? 'aggregate (MB/s)' : 'wall time, first POST to last 201 (s)');

/** 2b: `clients` pushers, each POST + PUT ?digest= of its own distinct blob (streamed from one source file + a random trailer). */
export async function concurrentPushSection(ctx: Ctx, work: string): Promise<Section> {
  const size = ctx.cfg.concurrentBlobSize;
  const sec = newSection(`2b. Concurrent pushers, distinct ${sizeLabel(size)} blobs`, false);
  sec.notes.push(
    `${ctx.cfg.concurrentPushers.join(' and ')} node:http clients at once, each on its own keep-alive connection: POST, then a monolithic ` +
      `PUT ?digest= of its own blob streamed from a file. Aggregate = clients x ${sizeLabel(size)} / wall time from the first POST ` +
      `to the last 201. \`sync\` before each timed run; ${ctx.cfg.runs} interleaved run(s), median.`,
  );
  const source = generateSource(join(work, 'concurrent-source.bin'), size);
  try {
    for (const clients of ctx.cfg.concurrentPushers) {
      sec.row(concurrentPushMetric(clients, 'MB/s'));
      await rssPhase(ctx, `${clients} concurrent pushers`, () =>
        interleave(ctx, sec, concurrentPushMetric(clients, 'MB/s'), ctx.registries, async (t) => {
          const payloads = Array.from({ length: clients }, () => makePayload(source));
          syncDisks();
          const secs = await atOnce(payloads, (p, agent) => pushMonolithic(t, BIG_REPO, p, { agent, bufferBytes: CLIENT_BUFFER }));
          sec.add(concurrentPushMetric(clients, 's'), t.name, secs);
          return { value: payloads.reduce((s, p) => s + p.size, 0) / MB / secs };
        }),
      );
    }
  } finally {
    rmSync(source.path, { force: true });
  }
  return sec;
}

export const smallPushMetric = (pushers: number): string => `${pushers} pusher${pushers === 1 ? '' : 's'}: pushes/s`;

/** 5b: smallPushes distinct 4 KiB blobs shared out among 1, 8 and 32 pushers pushing at once. */
export async function concurrentSmallPushSection(ctx: Ctx): Promise<Section> {
  const { smallPushes: n, smallBlobSize } = ctx.cfg;
  const sec = newSection(`5b. ${n} ${smallBlobSize / 1024} KiB blob pushes from concurrent pushers`, false);
  sec.notes.push(
    `The ${n} pushes shared out among the pushers; each pusher POST + PUT ?digest= its blobs in turn on its own keep-alive ` +
      `connection. pushes/s = ${n} / wall time. ${ctx.cfg.runs} interleaved run(s), median.`,
  );
  for (const pushers of ctx.cfg.smallPushers) {
    await rssPhase(ctx, `${smallPushMetric(pushers).split(':')[0]} of 4 KiB blobs`, () =>
      interleave(ctx, sec, smallPushMetric(pushers), ctx.registries, async (t) => {
        const blobs = Array.from({ length: n }, () => smallBlob(smallBlobSize));
        const shares = Array.from({ length: pushers }, (_, i) => blobs.filter((_b, k) => k % pushers === i));
        const secs = await atOnce(shares, (share, agent) => pushBlobsInTurn(t, SMALL_REPO, share, agent));
        return { value: n / secs };
      }),
    );
  }
  return sec;
}
