/**
 * bin/berth.js picks the build or the sources: dist/ while no source changed since npm start's
 * last build (its stamp), the sources once one did, always with BERTH_FROM_SOURCE=1, and dist/
 * where there is no stamp (npm run build, npm pack) or no src/ (the container image).
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, run, tempDir } from '../helpers/process.ts';

describe('bin/berth.js: the build or the sources', () => {
  let tree: string;
  const stamp = (): string => join(tree, 'node_modules', '.cache', 'berth', 'server.json');
  const source = (): string => join(tree, 'src', 'cli', 'index.ts');
  const which = async (env: Record<string, string> = {}): Promise<string> => {
    const res = await run('node', [join(tree, 'bin', 'berth.js')], { cwd: tree, env: { BERTH_FROM_SOURCE: '', ...env } });
    assert.equal(res.code, 0, res.stderr);
    return res.stdout.trim();
  };
  const at = (file: string, seconds: number): Promise<void> => utimes(file, seconds, seconds);

  before(async () => {
    tree = await tempDir('entry');
    await Promise.all(['bin', 'dist/cli', 'src/cli', 'node_modules/.cache/berth'].map((d) => mkdir(join(tree, d), { recursive: true })));
    await copyFile(join(REPO_ROOT, 'bin', 'berth.js'), join(tree, 'bin', 'berth.js'));
    await symlink(join(REPO_ROOT, 'node_modules', 'tsx'), join(tree, 'node_modules', 'tsx'));
    await writeFile(join(tree, 'package.json'), '{"type":"module"}\n');
    await writeFile(join(tree, 'dist', 'cli', 'index.js'), "export async function runCli() { console.log('dist'); return 0; }\n");
    await writeFile(source(), "export async function runCli(): Promise<number> { console.log('src'); return 0; }\n");
    await writeFile(join(tree, 'src', 'cli', 'index.test.ts'), '');
    await writeFile(stamp(), '{}\n');
  });
  after(() => rm(tree, { recursive: true, force: true }));

  it('runs dist/ while no source is newer than the last build', async () => {
    await at(source(), 1000);
    await at(stamp(), 2000);
    assert.equal(await which(), 'dist');
    // a test file is not compiled: editing one changes nothing
    await at(join(tree, 'src', 'cli', 'index.test.ts'), 3000);
    assert.equal(await which(), 'dist');
  });

  it('runs the sources once one was edited after the build, and with BERTH_FROM_SOURCE=1', async () => {
    await at(stamp(), 2000);
    await at(source(), 3000);
    assert.equal(await which(), 'src');
    await at(source(), 1000);
    assert.equal(await which({ BERTH_FROM_SOURCE: '1' }), 'src');
  });

  it('runs dist/ without a stamp (npm run build) or without src/ (the image)', async () => {
    await at(source(), 3000);
    await rm(stamp());
    assert.equal(await which(), 'dist');
    await writeFile(stamp(), '{}\n');
    await at(stamp(), 2000);
    await rm(join(tree, 'src'), { recursive: true });
    assert.equal(await which(), 'dist');
  });
});
