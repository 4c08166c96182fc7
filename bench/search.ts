// 9. Discovery at scale (berth only): 100,000 repositories seeded straight into berth's database
// (one transaction: repository, blob and manifest rows, as pushes leave them; the search index
// follows through its triggers, then descriptions, stars and pull counts), then sequential
// /v1/search and /v2/_catalog?n=100 requests for p50/p99, and the index's query alone with an
// anonymous visibility filter (the query a logged-out caller runs once access control is on).
// Runs before the auth section (access control is off here). Alone: node --import tsx bench/search.ts
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readConfig } from './config.ts';
import { errMsg, log, type Ctx } from './context.ts';
import { installCleanupHandlers, makeTempDir, runMain } from './procs.ts';
import { buildBerth, startBerth, type Server } from './servers.ts';
import { Section } from './table.ts';
import { SqliteMetaStore } from '../src/meta/sqlite/sqlite-store.ts';
import { SqliteSearchIndex } from '../src/meta/sqlite/search-index.ts';
import type { AccessFilter } from '../src/search/model.ts';

const REPOSITORIES = Number(process.env.BENCH_SEARCH_REPOS ?? 100_000);
const REQUESTS = Number(process.env.BENCH_SEARCH_REQUESTS ?? 2_000);
const WORDS = 500;
const NAMESPACES = 1_000;

/** A deterministic generator, so every run seeds the same names. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const word = (i: number): string => `w${i.toString(36)}x`;

interface Seeded {
  names: string[];
  seconds: number;
}

/** Seed `count` repositories into the database at `file`, in one transaction. */
export function seed(file: string, count: number): Seeded {
  const started = performance.now();
  const meta = new SqliteMetaStore(file);
  const db: Database.Database = meta.database;
  const random = rng(42);
  const pick = (): string => word(Math.floor(random() * WORDS));
  const now = Date.now();
  const names: string[] = [];
  const insertRepo = db.prepare('INSERT INTO repositories (name, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING');
  const repoId = db.prepare<[string], { id: number }>('SELECT id FROM repositories WHERE name = ?');
  const insertBlob = db.prepare('INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
  const insertManifest = db.prepare(
    'INSERT INTO manifests (repository_id, digest, media_type, artifact_type, size, subject_digest, annotations, created_at) VALUES (?, ?, ?, NULL, 100, NULL, NULL, ?) ON CONFLICT DO NOTHING',
  );
  const insertTag = db.prepare("INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES (?, 'latest', ?, ?) ON CONFLICT DO NOTHING");
  const settings = db.prepare(
    "INSERT INTO repository_settings (name, namespace, visibility, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
  );
  const info = db.prepare('UPDATE repository_info SET description = ?, star_count = ?, pull_count = ? WHERE name = ?');
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const ns = `ns${(i % NAMESPACES).toString().padStart(4, '0')}`;
      const name = `${ns}/${pick()}-${pick()}-${i}`;
      names.push(name);
      insertRepo.run(name, now, now);
      const id = repoId.get(name)?.id;
      if (id === undefined) throw new Error(`no id for ${name}`);
      const digest = `sha256:${i.toString(16).padStart(64, '0')}`;
      insertBlob.run(digest, 100, now);
      insertManifest.run(id, digest, 'application/vnd.oci.image.manifest.v1+json', now);
      insertTag.run(id, digest, now);
      settings.run(name, ns, random() < 0.2 ? 'private' : 'public', now, now);
      const description = `${pick()} ${pick()} ${pick()} image for ${pick()} ${pick()}`;
      info.run(description, Math.floor(random() ** 4 * 1000), Math.floor(random() * 100_000), name);
    }
  })();
  // Fold the seed out of the WAL, as a long-running registry's checkpoints would have.
  db.pragma('wal_checkpoint(TRUNCATE)');
  void meta.close();
  return { names, seconds: (performance.now() - started) / 1000 };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

/** Sequential requests (keep-alive), after a warm-up; latencies in ms. */
async function latencies(paths: () => string, base: URL, count: number): Promise<{ p50: number; p99: number; errors: number }> {
  let errors = 0;
  const once = async (): Promise<number> => {
    const t = performance.now();
    const res = await fetch(new URL(paths(), base));
    await res.arrayBuffer();
    if (res.status !== 200) errors++;
    return performance.now() - t;
  };
  for (let i = 0; i < Math.min(200, count); i++) await once();
  errors = 0;
  const times: number[] = [];
  for (let i = 0; i < count; i++) times.push(await once());
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), errors };
}

/** Section 9 on a running berth whose data is under `berth.root`. */
export async function searchSection(ctx: Pick<Ctx, 'started'>, berth: Server): Promise<Section> {
  const sec = new Section(`9. Search and catalog over ${REPOSITORIES.toLocaleString('en')} repositories (berth only)`, [
    { key: 'p50', label: 'p50 (ms)' },
    { key: 'p99', label: 'p99 (ms)' },
  ]);
  const file = join(berth.root, 'berth.db');
  log(ctx, `search: seeding ${REPOSITORIES} repositories`);
  const seeded = seed(file, REPOSITORIES);
  log(ctx, `search: seeded in ${seeded.seconds.toFixed(1)} s`);
  sec.notes.push(
    `Seeded straight into berth's database in one transaction (${seeded.seconds.toFixed(1)} s): names \`nsNNNN/<word>-<word>-<i>\` ` +
      `over ${NAMESPACES} namespaces, ${WORDS} words, a five-word description each, 20% private. Then ${REQUESTS} sequential requests per row ` +
      '(keep-alive, after one search for each word and 200 warm-up requests per row), one word per query (about 2% of the repositories match each), access control off ' +
      'except in the in-process row. Targets (issue 4): search p50 < 10 ms, catalog pages < 5 ms.',
  );
  // Warm caches as a serving registry's are: every word searched once.
  for (let i = 0; i < WORDS; i++) await (await fetch(new URL(`/v1/search?q=${word(i)}&n=25`, berth.base))).arrayBuffer();
  const random = rng(7);
  const term = (): string => word(Math.floor(random() * WORDS));
  const rows: [string, () => string][] = [
    ['GET /v1/search?q=<word>&n=25', () => `/v1/search?q=${term()}&n=25`],
    ['GET /v1/search?q=<word> <word>&n=25', () => `/v1/search?q=${term()}+${term()}&n=25`],
    ['GET /v1/search?q=<exact name>', () => `/v1/search?q=${encodeURIComponent(seeded.names[Math.floor(random() * seeded.names.length)] ?? '')}`],
    ['GET /api/v1/search?q=<word>&sort=stars', () => `/api/v1/search?q=${term()}&sort=stars`],
    ['GET /v2/_catalog?n=100 (from a random name)', () => `/v2/_catalog?n=100&last=${encodeURIComponent(seeded.names[Math.floor(random() * seeded.names.length)] ?? '')}`],
  ];
  for (const [metric, path] of rows) {
    try {
      const r = await latencies(path, berth.base, REQUESTS);
      sec.add(metric, 'p50', r.p50, r.errors);
      sec.add(metric, 'p99', r.p99, r.errors);
      log(ctx, `search: ${metric}: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms${r.errors ? `, ${r.errors} errors` : ''}`);
    } catch (err) {
      sec.fail(metric, 'p50', errMsg(err));
    }
  }
  // The anonymous filter costs a join and a condition: measured on the index itself, in process.
  const meta = new SqliteMetaStore(file);
  try {
    const index = new SqliteSearchIndex(meta.database);
    const anonymous: AccessFilter = { all: false, defaultPublic: false, namespaces: [], repositories: [] };
    const user: AccessFilter = { all: false, defaultPublic: false, namespaces: ['ns0001', 'ns0002'], repositories: ['ns0003/x'] };
    for (const [metric, access] of [
      ['index.search(<word>), anonymous filter, in process', anonymous],
      ['index.search(<word>), a user with 2 namespaces, in process', user],
    ] as const) {
      const times: number[] = [];
      for (let i = 0; i < REQUESTS + 200; i++) {
        const t = performance.now();
        await index.search({ text: term(), access, sort: 'relevance', offset: 0, limit: 25 });
        if (i >= 200) times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      sec.add(metric, 'p50', percentile(times, 50));
      sec.add(metric, 'p99', percentile(times, 99));
      log(ctx, `search: ${metric}: p50 ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms`);
    }
    // The catalog of a caller who is not an administrator (issue 12): most repositories private,
    // the page's cost must not depend on how many hidden names follow `last`.
    meta.database.prepare("UPDATE repository_settings SET visibility = CASE WHEN name LIKE '%0' THEN 'public' ELSE 'private' END").run();
    for (const [metric, access] of [
      ['catalog page n=100 from a random name, administrator (90% private), in process', undefined],
      ['catalog page n=100 from a random name, anonymous (90% private), in process', anonymous],
      ['catalog page n=100 from a random name, a user with 2 namespaces (90% private), in process', user],
    ] as const) {
      const times: number[] = [];
      for (let i = 0; i < REQUESTS + 200; i++) {
        const last = seeded.names[Math.floor(random() * seeded.names.length)] ?? '';
        const t = performance.now();
        await meta.listRepositories({ last, n: 100 }, access);
        if (i >= 200) times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      sec.add(metric, 'p50', percentile(times, 50));
      sec.add(metric, 'p99', percentile(times, 99));
      log(ctx, `search: ${metric}: p50 ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms`);
    }
  } finally {
    await meta.close();
  }
  return sec;
}

/** Alone: build, start berth on an empty root, run section 9, print it. */
async function main(): Promise<void> {
  installCleanupHandlers();
  readConfig();
  const started = Date.now();
  const work = makeTempDir('berth-bench-search-');
  buildBerth();
  const berth = await startBerth(work);
  const sec = await searchSection({ started }, berth);
  process.stdout.write(`\n${sec.render()}\n`);
}

runMain(main, import.meta.url);
