// Issue 14's sections ("Beyond one machine"): 10 S3 push/pull and memory on Ceph RGW beside
// distribution, 11 nginx to one vs three berth nodes on PostgreSQL + RGW, 12 PostgreSQL vs SQLite.
// Starts RGW and PostgreSQL once for the three, stops them after. A section whose tools are
// missing prints why instead of its rows. BENCH_CLUSTER=0 skips all three.
// Alone (builds berth first): node --import tsx bench/scale-out.ts   (BENCH_QUICK=1 for the short run)
import { clusterSection } from './cluster.ts';
import { nginxMissing, postgresMissing, postgresVersion, rgwMissing, startPostgres, startRgw, type Postgres, type Rgw } from './backends.ts';
import { readConfig, type BenchConfig } from './config.ts';
import { databasesSection } from './databases.ts';
import { errMsg, log, sizeLabel } from './context.ts';
import type { SourceFile } from './payload.ts';
import { installCleanupHandlers, makeTempDir, runMain } from './procs.ts';
import { s3Sections } from './s3.ts';
import { buildBerth } from './servers.ts';
import { Section } from './table.ts';

export interface ScaleOutDeps {
  cfg: BenchConfig;
  started: number;
  /** A random source file of cfg.s3BlobSize (minus its trailer) to reuse, if the caller has one. */
  source?: SourceFile;
  /** Told of each section as it completes (standalone runs print them at once). */
  onSection?: (sec: Section) => void;
}

/** A section that did not run: its title and why, no table. */
class NotRun extends Section {
  constructor(title: string, readonly why: string) {
    super(title, []);
  }

  override render(): string {
    return `## ${this.title}\n\n**Not run: ${this.why}.**`;
  }
}

export function notRunSection(title: string, why: string): Section {
  return new NotRun(title, why);
}

const TITLES = {
  s3: '11. S3 (Ceph RGW), blob push and pull',
  cluster: '12. Cluster: manifest GET by tag through nginx, one berth node vs three',
  databases: '13. PostgreSQL vs SQLite (berth, filesystem storage)',
};

/** Sections 11-13. berth must be built (bin/berth.js current). */
export async function scaleOutSections(d: ScaleOutDeps): Promise<Section[]> {
  const { cfg } = d;
  if (!cfg.cluster) return [notRunSection('11-13. S3, cluster, PostgreSQL', 'skipped (BENCH_CLUSTER=0)')];
  const work = makeTempDir('berth-bench-scale-');
  const noRgw = rgwMissing();
  const noPg = await postgresMissing();
  const noNginx = nginxMissing();
  let rgw: Rgw | undefined;
  let pg: Postgres | undefined;
  const out: Section[] = [];
  const attempt = async (title: string, why: string | undefined, fn: () => Promise<Section[]>): Promise<void> => {
    if (why !== undefined) {
      out.push(notRunSection(title, why));
      log(d, `${title}: not run (${why})`);
      return;
    }
    try {
      for (const sec of await fn()) {
        out.push(sec);
        d.onSection?.(sec);
      }
    } catch (err) {
      out.push(notRunSection(title, `failed: ${errMsg(err).replace(/\s+/g, ' ').slice(0, 400)}`));
      log(d, `${title} FAILED: ${errMsg(err)}`);
    }
  };
  try {
    // Room for the three kept blobs, the one in flight and distribution's copy on commit.
    const memstore = Math.max(4 * 2 ** 30, 8 * cfg.s3BlobSize);
    log(d, `starting PostgreSQL and Ceph RGW (memstore ${sizeLabel(memstore)})`);
    [rgw, pg] = await Promise.all([
      noRgw === undefined
        ? startRgw(memstore).catch((err: unknown) => {
            log(d, `RGW: ${errMsg(err)}`);
            return undefined;
          })
        : undefined,
      noPg === undefined ? startPostgres() : undefined,
    ]);
    const rgwWhy = noRgw ?? (rgw === undefined ? 'Ceph RGW did not start' : undefined);
    await attempt(TITLES.cluster, rgwWhy ?? noPg ?? noNginx, async () => (rgw && pg ? [await clusterSection({ ...d, work, rgw, pg })] : []));
    const pgVersion = await postgresVersion();
    await attempt(TITLES.databases, noPg, async () => (pg ? [await databasesSection({ ...d, work, pg, pgVersion })] : []));
    // The longest last (1 GiB pushes through RGW).
    await attempt(TITLES.s3, rgwWhy, () => (rgw ? s3Sections({ ...d, work, rgw }) : Promise.resolve([])));
  } finally {
    await rgw?.stop();
    await pg?.stop();
  }
  // In section order (11, 11b, 12, 13), whatever order they ran in.
  const num = (sec: Section): number => Number.parseFloat(/^\d+/.exec(sec.title)?.[0] ?? '99') + (/^\d+b\./.test(sec.title) ? 0.5 : 0);
  return out.sort((a, b) => num(a) - num(b));
}

async function main(): Promise<void> {
  installCleanupHandlers();
  const cfg = readConfig();
  const started = Date.now();
  buildBerth();
  const sections = await scaleOutSections({ cfg, started, onSection: (sec) => process.stderr.write(`\n${sec.render()}\n\n`) });
  process.stdout.write(`\n${sections.map((s) => s.render()).join('\n\n')}\n`);
  log({ started }, `done in ${Math.round((Date.now() - started) / 1000)} s`);
}

runMain(main, import.meta.url);
