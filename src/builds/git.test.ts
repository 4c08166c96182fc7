import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fetchSource } from './git.ts';

const hasGit = (() => {
  try {
    execFileSync('git', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

describe('fetchSource', { skip: hasGit ? false : 'git not installed' }, () => {
  it('checks out the commit and keeps a deploy key out of the checkout (the build context)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-git-'));
    try {
      const repo = path.join(dir, 'repo');
      await fs.mkdir(repo);
      const g = (...args: string[]) => execFileSync('git', ['-c', 'user.email=a@b', '-c', 'user.name=a', ...args], { cwd: repo, encoding: 'utf8' }).trim();
      g('init', '-q', '-b', 'main');
      await fs.writeFile(path.join(repo, 'Dockerfile'), 'FROM scratch\n');
      g('add', '-A');
      g('commit', '-q', '-m', 'one');
      const build = path.join(dir, 'build');
      const commit = await fetchSource(`file://${repo}`, { type: 'branch', name: 'main' }, build, { credential: { kind: 'ssh', secret: '-----BEGIN OPENSSH PRIVATE KEY-----\nSECRET\n' } });
      assert.equal(commit, g('rev-parse', 'HEAD'));
      assert.deepEqual((await fs.readdir(path.join(build, 'src'))).sort(), ['.git', 'Dockerfile']);
      const key = await fs.stat(path.join(build, 'git-home', 'deploy-key'));
      assert.equal(key.mode & 0o777, 0o600);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
