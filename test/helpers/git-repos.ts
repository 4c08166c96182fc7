/**
 * Git repositories made by the automated-build tests: a repository with files and a first commit,
 * further commits, and git run with a fixed author and no prompt.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { runOk } from './process.ts';

/** Run git in `dir` with a fixed author; returns its output, trimmed. */
export async function git(dir: string, ...args: string[]): Promise<string> {
  const r = await runOk('git', ['-c', 'user.email=dev@example.com', '-c', 'user.name=dev', ...args], { cwd: dir });
  return r.stdout.trim();
}

/** Write `files` (path -> content) into the work tree and commit them all; returns the commit. */
export async function commit(dir: string, files: Record<string, string | Buffer>, message: string): Promise<string> {
  for (const [name, body] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    // the programs and the loader of a root filesystem (builds.ts: baseRootfs) are executable
    await fs.writeFile(path.join(dir, name), body, { mode: /(^|\/)rootfs\/(bin|lib64)\//.test(name) ? 0o755 : 0o644 });
  }
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

/** A new repository in `dir` on `branch` whose first commit holds `files`; returns that commit. */
export async function repoWith(dir: string, files: Record<string, string | Buffer>, branch = 'main'): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', branch);
  return commit(dir, files, 'first');
}
