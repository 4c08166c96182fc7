/**
 * What `berth fsck --repair` does to each problem the scan found (fsck.ts), and nothing more:
 *
 *   torn-journal, restorable  the file is written again from the journal's copy (a corrupt file
 *                             is moved into quarantine first)
 *   torn-journal, bad copy    the copy is dropped (berth's start-up recovery would otherwise write
 *                             its wrong bytes over the file)
 *   corrupt                   the file moves into quarantine (/_fsck/quarantine/<alg>/<hex>.<ms>),
 *                             never deleted; then as missing
 *   missing                   the record goes (with its links) when no manifest needs the blob, so
 *                             that the next push uploads it again; else left, naming the manifests
 *   orphan, stray             deleted with --delete-orphans when older than the grace period and
 *                             still unrecorded; else left (garbage collection works from the meta
 *                             store and never sees them: they only cost space)
 *   dangling                  left: the manifest names what the registry never had
 */
import type { BlobInventory } from '../meta/inventory.ts';
import type { MetaStore } from '../meta/store.ts';
import { PathNotFoundError, type StorageDriver } from '../storage/driver.ts';
import type { Problem } from './fsck.ts';

export const QUARANTINE_ROOT = '/_fsck/quarantine';

export interface RepairContext {
  driver: StorageDriver;
  meta: MetaStore;
  inventory: BlobInventory;
  /** Good journal copies of the blobs they can restore, by digest. */
  copies: ReadonlyMap<string, Buffer>;
  deleteOrphans: boolean;
  /** Orphans modified before this (ms since epoch) may be deleted. */
  orphansBefore: number;
  now: () => number;
}

/** Move a corrupt file aside; returns where it went. */
async function quarantine(ctx: RepairContext, problem: Problem): Promise<string | undefined> {
  const digest = problem.digest ?? '';
  const colon = digest.indexOf(':');
  const to = `${QUARANTINE_ROOT}/${digest.slice(0, colon)}/${digest.slice(colon + 1)}.${ctx.now()}`;
  try {
    await ctx.driver.move(problem.path, to);
    return to;
  } catch (err) {
    if (err instanceof PathNotFoundError) return undefined;
    throw err;
  }
}

/** A record nobody needs goes; one a manifest needs stays, named. */
async function forgetOrLeave(ctx: RepairContext, problem: Problem, done: string): Promise<void> {
  const digest = problem.digest ?? '';
  if ((problem.neededBy ?? []).length === 0 && (await ctx.inventory.forgetBlob(digest))) {
    problem.repair = `${done}record removed (no manifest needs it; a push uploads it again)`;
    problem.fixed = true;
    return;
  }
  const needers = (await ctx.inventory.usesOf(digest)).filter((u) => u.kind !== 'link' && u.manifest !== undefined);
  problem.neededBy = needers.map((u) => `${u.repository}@${u.manifest}`);
  problem.repair = `${done}left: needed by ${problem.neededBy.join(', ') || 'a manifest'}; push it again or delete those manifests`;
}

async function repairOne(ctx: RepairContext, problem: Problem): Promise<void> {
  const digest = problem.digest ?? '';
  switch (problem.kind) {
    case 'torn-journal': {
      const copy = ctx.copies.get(digest);
      if (copy !== undefined) {
        const moved = problem.present === true ? await quarantine(ctx, problem) : undefined;
        await ctx.driver.putContent(problem.path, copy);
        problem.repair = `${moved === undefined ? '' : `moved to ${moved}; `}restored from the blob journal`;
        problem.fixed = true;
      } else {
        await ctx.meta.clearJournal([digest]);
        problem.repair = "dropped the journal's bad copy";
        problem.fixed = true;
      }
      return;
    }
    case 'corrupt': {
      const moved = await quarantine(ctx, problem);
      await forgetOrLeave(ctx, problem, moved === undefined ? '' : `moved to ${moved}; `);
      return;
    }
    case 'missing':
      await forgetOrLeave(ctx, problem, '');
      return;
    case 'orphan':
    case 'stray': {
      const old = (problem.modTime ?? Infinity) < ctx.orphansBefore;
      if (!ctx.deleteOrphans || !old) {
        problem.repair = ctx.deleteOrphans ? 'left: younger than the grace period (a push may be under way)' : 'left: only --delete-orphans removes it';
        return;
      }
      if (problem.kind === 'orphan' && (await ctx.meta.getBlob(digest)) !== undefined) {
        problem.repair = 'left: recorded meanwhile';
        problem.fixed = true;
        return;
      }
      await ctx.driver.delete(problem.path).catch((err: unknown) => {
        if (!(err instanceof PathNotFoundError)) throw err;
      });
      problem.repair = 'deleted';
      problem.fixed = true;
      return;
    }
    case 'dangling':
      problem.repair = 'left: push the image again, or delete the manifest';
      return;
  }
}

export async function repairProblems(problems: Problem[], ctx: RepairContext): Promise<void> {
  // bad journal copies go before the blobs they shadow are looked at
  const order = (p: Problem): number => (p.kind === 'torn-journal' && !ctx.copies.has(p.digest ?? '') ? 0 : 1);
  for (const problem of [...problems].sort((a, b) => order(a) - order(b))) await repairOne(ctx, problem);
}
