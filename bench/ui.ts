// 10. The web UI (berth only): what a browser downloads (every file of ui/dist raw, gzip and
// brotli, and the first load of `/` as Chromium receives it) and how fast pages appear in Debian's
// Chromium over loopback: first contentful paint and "network idle" (every API answer rendered),
// cold (a new browser context, empty cache) and warm (the same context again), p50 and p95.
// In the full run it follows section 9, so the home page's searches run over 100,000 repositories.
// Alone: node --import tsx bench/ui.ts (an empty registry with a few repositories).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { readConfig } from './config.ts';
import { errMsg, log, type Ctx } from './context.ts';
import { installCleanupHandlers, makeTempDir, runMain } from './procs.ts';
import { buildBerth, REPO_ROOT, startBerth, type Server } from './servers.ts';
import { Section } from './table.ts';

const CHROMIUM = '/usr/bin/chromium';
const UI_DIST = join(REPO_ROOT, 'ui', 'dist');
const LOADS = Number(process.env.BENCH_UI_LOADS ?? 20);
const KIB = 1024;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? files(full) : [full];
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Every file of the build, raw / gzip -9 / brotli -11 in KiB; and the files index.html loads first. */
function bundleSection(): Section {
  const sec = new Section('10a. Web UI bundle (ui/dist)', [
    { key: 'raw', label: 'raw (KiB)' },
    { key: 'gzip', label: 'gzip (KiB)' },
    { key: 'br', label: 'brotli (KiB)' },
  ]);
  const index = readFileSync(join(UI_DIST, 'index.html'), 'utf8');
  const initial = new Set([...index.matchAll(/(?:src|href)="\/([^"]+)"/g)].map((m) => m[1]));
  const totals = { raw: 0, gzip: 0, br: 0 };
  const first = { raw: 0, gzip: 0, br: 0 };
  for (const file of files(UI_DIST).sort()) {
    const name = relative(UI_DIST, file);
    if (!/\.(js|css|html|svg)$/.test(name)) continue;
    const body = readFileSync(file);
    const sizes = {
      raw: body.length,
      gzip: gzipSync(body, { level: 9 }).length,
      br: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    };
    const loadedFirst = name === 'index.html' || initial.has(name);
    for (const k of ['raw', 'gzip', 'br'] as const) {
      sec.add(`${name}${loadedFirst ? ' (first load)' : ''}`, k, sizes[k] / KIB);
      totals[k] += sizes[k];
      if (loadedFirst) first[k] += sizes[k];
    }
  }
  for (const k of ['raw', 'gzip', 'br'] as const) {
    sec.add('first load of any page: index.html + what it links', k, first[k] / KIB);
    sec.add('everything (all pages, lazily loaded chunks included)', k, totals[k] / KIB);
  }
  sec.notes.push('berth serves these from memory, brotli-compressed for browsers that accept it (all current ones); hashed assets are cached for a year.');
  return sec;
}

interface LoadTimes {
  fcp: number;
  idle: number;
  transferred: number;
}

async function load(browser: Browser, url: string, loads: number): Promise<{ cold: LoadTimes[]; warm: LoadTimes[] }> {
  const cold: LoadTimes[] = [];
  const warm: LoadTimes[] = [];
  for (let i = 0; i < loads; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    for (const into of [cold, warm]) {
      const started = performance.now();
      await page.goto(url, { waitUntil: 'networkidle' });
      const idle = performance.now() - started;
      const measured = await page.evaluate(() => {
        const paint = performance.getEntriesByName('first-contentful-paint')[0];
        const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
        return { fcp: paint?.startTime ?? Number.NaN, transferred: resources.reduce((n, r) => n + r.transferSize, nav?.transferSize ?? 0) };
      });
      into.push({ fcp: measured.fcp, idle, transferred: measured.transferred });
    }
    await context.close();
  }
  return { cold, warm };
}

/** Section 10b on a running berth: pages loaded in Chromium. */
export async function uiSection(ctx: Pick<Ctx, 'started'>, berth: Server, term = 'app'): Promise<Section[]> {
  if (!existsSync(join(UI_DIST, 'index.html'))) throw new Error('ui/dist is missing: run npm run build:ui');
  const bundle = bundleSection();
  const sec = new Section('10b. Web UI page loads in Chromium (loopback)', [
    { key: 'cold50', label: 'cold p50' },
    { key: 'cold95', label: 'cold p95' },
    { key: 'warm50', label: 'warm p50' },
    { key: 'warm95', label: 'warm p95' },
  ]);
  if (!existsSync(CHROMIUM)) {
    sec.fail('page loads', 'cold50', `${CHROMIUM} is missing (apt-get install chromium)`);
    return [bundle, sec];
  }
  sec.notes.push(
    `${LOADS} loads per page: cold = a new browser context (empty cache), warm = the same page again in that context. ` +
      'FCP = first contentful paint (ms); idle = until no request has been in flight for 500 ms, i.e. every API answer rendered, minus those 500 ms (ms).',
  );
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    for (const [label, path] of [
      ['/ (home: three searches)', '/'],
      [`/search?q=${term}`, `/search?q=${term}`],
    ] as const) {
      log(ctx, `ui: loading ${path} ${LOADS} times`);
      try {
        const { cold, warm } = await load(browser, new URL(path, berth.base).href, LOADS);
        for (const [name, pick] of [
          ['FCP (ms)', (t: LoadTimes) => t.fcp],
          ['idle (ms)', (t: LoadTimes) => t.idle - 500],
          ['transferred (KiB)', (t: LoadTimes) => t.transferred / KIB],
        ] as const) {
          const c = cold.map(pick).sort((a, b) => a - b);
          const w = warm.map(pick).sort((a, b) => a - b);
          const metric = `${label}: ${name}`;
          sec.add(metric, 'cold50', percentile(c, 50));
          sec.add(metric, 'cold95', percentile(c, 95));
          sec.add(metric, 'warm50', percentile(w, 50));
          sec.add(metric, 'warm95', percentile(w, 95));
        }
      } catch (err) {
        sec.fail(`${label}: FCP (ms)`, 'cold50', errMsg(err));
      }
    }
  } finally {
    await browser.close();
  }
  return [bundle, sec];
}

/** A few repositories so the home page has something to show when run alone. */
async function seedSome(berth: Server): Promise<void> {
  const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  const { createHash } = await import('node:crypto');
  const digest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
  for (const name of ['library/app', 'alice/app', 'acme/app-server', 'bob/tools']) {
    await fetch(new URL(`/v2/${name}/blobs/uploads/?digest=${digest}`, berth.base), { method: 'POST', body: config, headers: { 'content-type': 'application/octet-stream' } });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest, size: config.length },
      layers: [],
    });
    await fetch(new URL(`/v2/${name}/manifests/latest`, berth.base), { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
  }
}

async function main(): Promise<void> {
  installCleanupHandlers();
  readConfig();
  const started = Date.now();
  const work = makeTempDir('berth-bench-ui-');
  buildBerth();
  const berth = await startBerth(work);
  await seedSome(berth);
  const sections = await uiSection({ started }, berth);
  process.stdout.write(`\n${sections.map((s) => s.render()).join('\n\n')}\n`);
}

runMain(main, import.meta.url);
